//! HTTP services (`/hs/<root>/…`): a test registers a handler per root URL, as a 1C developer publishes
//! an HTTP service, and the simulator calls it with the decoded path, query and body.

use std::sync::Arc;

use serde_json::Value;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::api::Routed;
use super::state::State;

/// A call to a simulated HTTP service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HsCall {
    /// The HTTP method.
    pub method: String,
    /// The path after the service root, decoded, without a leading `/` (`orders/ЗК-1/status`).
    pub path: String,
    /// The query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HsCall {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A simulated HTTP service's answer (JSON).
#[derive(Debug, Clone)]
pub struct HsAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

impl HsAnswer {
    /// An answer with this status and JSON body.
    pub fn json(status: u16, body: Value) -> HsAnswer {
        HsAnswer { status, body }
    }
}

/// A simulated HTTP service: the handler of one root URL.
pub type HsHandler = Arc<dyn Fn(&HsCall) -> HsAnswer + Send + Sync>;

impl State {
    pub(super) fn http_service(&self, req: &Request, rest: &str) -> Routed {
        let (root, path) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(handler) = self.services.get(root).cloned() else {
            return Routed::Done(ResponseTemplate::new(404).set_body_string("Not Found"));
        };
        let call = HsCall {
            method: req.method.to_string(),
            path: path.to_owned(),
            query: req
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            body: req.body.clone(),
        };
        Routed::Service(handler, call)
    }
}
