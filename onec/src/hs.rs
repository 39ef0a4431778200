//! 1C HTTP services (`/hs/<RootURL>/<template>`): customer-specific endpoints a 1C developer wrote.
//!
//! Their contract (paths, JSON shapes, errors) is whatever that developer chose, so this is a thin typed
//! call: the same publication, user and TLS as the OData client, path segments percent-encoded one by
//! one (Cyrillic templates work), JSON in and out, and non-2xx answers turned into errors by their HTTP
//! status with the body excerpt kept. HTTP services are the route to take when business logic must run
//! (the standard OData interface skips form and processing logic).
//!
//! ```no_run
//! # async fn demo(client: switchboard_onec::OneCClient) -> switchboard_core::Result<()> {
//! use serde_json::{Value, json};
//! let crm = client.http_service("crm");
//! let status: Value = crm.get("orders/ЗК-000123/status", &[]).await?;
//! let created: Value = crm.post("leads", &json!({"name": "ООО Ромашка"})).await?;
//! # Ok(()) }
//! ```

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::http::decode_json;
use switchboard_core::{Error, Idempotence, Result};

use crate::client::OneCClient;
use crate::error::ours;
use crate::query::encode_value;

/// The HTTP services under one root URL. Made by [`OneCClient::http_service`].
#[derive(Debug, Clone)]
pub struct HttpService {
    client: OneCClient,
    root: String,
}

/// One call to an HTTP service.
#[derive(Debug, Clone)]
pub struct HsRequest {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    idempotence: Idempotence,
}

impl HsRequest {
    /// A call with this method on `path` (relative to the service root; `a/b/c`).
    ///
    /// `GET`, `HEAD`, `PUT` and `DELETE` are treated as idempotent (retried on temporary failures),
    /// others not; override with [`HsRequest::idempotence`] when the service says otherwise.
    pub fn new(method: Method, path: impl Into<String>) -> HsRequest {
        let idempotence = if matches!(method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE) {
            Idempotence::Idempotent
        } else {
            Idempotence::NotIdempotent
        };
        HsRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            idempotence,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> HsRequest {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &impl Serialize) -> Result<HsRequest> {
        self.body = Some(
            serde_json::to_vec(body)
                .map_err(|e| Error::invalid_input(format!("the body cannot be serialised: {e}")))?,
        );
        Ok(self)
    }

    /// Declares whether repeating the call is harmless (the service's contract decides).
    pub fn idempotence(mut self, idempotence: Idempotence) -> HsRequest {
        self.idempotence = idempotence;
        self
    }
}

/// The answer of an HTTP service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HsResponse {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl HsResponse {
    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.body).map_err(|e| ours(e.with_http_status(self.status)))
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl HttpService {
    pub(crate) fn new(client: OneCClient, root: &str) -> HttpService {
        HttpService {
            client,
            root: root.trim_matches('/').to_owned(),
        }
    }

    /// The root URL name (`crm`).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The full URL of `path` under this service.
    pub fn url(&self, path: &str) -> Result<String> {
        if self.root.is_empty() || self.root.contains('/') {
            return Err(ours(Error::invalid_input(
                "an HTTP service root is one path segment (the service's КорневойURL)",
            )));
        }
        let mut url = format!("{}/{}", self.client.config().hs_root(), encode_value(&self.root));
        let path = path.trim_start_matches('/');
        if !path.is_empty() {
            for seg in path.split('/') {
                if seg == "." || seg == ".." {
                    return Err(ours(Error::invalid_input(
                        "'.' and '..' are not allowed in an HTTP service path",
                    )));
                }
                url.push('/');
                url.push_str(&encode_value(seg));
            }
        }
        Ok(url)
    }

    /// `GET path?query` and the answer as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        let mut req = HsRequest::new(Method::GET, path);
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        self.call(req).await?.json()
    }

    /// `POST path` with a JSON body, and the answer as JSON. Not retried once sent.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.call(HsRequest::new(Method::POST, path).json(body)?).await?.json()
    }

    /// Any call. A non-2xx answer is an error by its HTTP status, with the body excerpt kept.
    pub async fn call(&self, req: HsRequest) -> Result<HsResponse> {
        let mut url = self.url(&req.path)?;
        if !req.query.is_empty() {
            let q: Vec<String> = req
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_value(k), encode_value(v)))
                .collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        let reply = self
            .client
            .execute_service(req.method.clone(), &url, req.body.clone(), req.idempotence)
            .await?;
        Ok(HsResponse {
            status: reply.status.as_u16(),
            headers: reply.headers,
            body: reply.body,
        })
    }
}
