//! Starting the service for a test and talking to it.

use std::path::PathBuf;

use serde_json::Value;
use switchboard_crm::{Config, Env, Running, spawn};

/// A service on a fresh database file in test mode, and an HTTP client for it.
pub struct Crm {
    pub running: Running,
    pub http: reqwest::Client,
    _dir: TempDir,
}

/// A directory removed when the test ends.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Crm {
    /// Starts the service with `CRM_TEST_MODE=1` and `extra` variables on top.
    pub async fn start(extra: &[(&str, &str)]) -> Crm {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("crm-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut vars = vec![
            ("CRM_TEST_MODE".to_owned(), "1".to_owned()),
            ("CRM_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "CRM_DATABASE".to_owned(),
                format!("sqlite:{}", dir.join("crm.db").display()),
            ),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from(Env::fixed(vars)).unwrap();
        let running = spawn(config).await.unwrap();
        let http = switchboard::core::http::HttpOptions::default().build_client().unwrap();
        Crm {
            running,
            http,
            _dir: TempDir(dir),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url)
    }

    /// POSTs JSON; answers the status and the JSON body (`Null` when the body is not JSON).
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(self.url(path)).json(&body).send().await.unwrap();
        answer(r).await
    }

    /// PATCHes JSON.
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.patch(self.url(path)).json(&body).send().await.unwrap();
        answer(r).await
    }

    /// POSTs a raw body with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    /// GETs.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        answer(r).await
    }
}

async fn answer(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

impl Crm {
    /// GETs `path` until `done` holds for the body (bounded: five seconds), and answers the last body.
    /// The outbox worker and the settle loop run in the background; this waits for them.
    pub async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let (_, body) = self.get(path).await;
            if done(&body) || std::time::Instant::now() > deadline {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// POSTs JSON with extra headers.
    pub async fn post_with(&self, path: &str, headers: &[(&str, &str)], body: Value) -> (u16, Value) {
        let mut r = self.http.post(self.url(path)).json(&body);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        answer(r.send().await.unwrap()).await
    }

    /// The simulator of an integration started in test mode.
    pub fn sim(
        &self,
        wired: &Option<switchboard_crm::app::Wired>,
    ) -> std::sync::Arc<dyn switchboard::core::simulated::Simulated> {
        wired.as_ref().unwrap().simulator.clone().unwrap()
    }
}
