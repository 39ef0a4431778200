//! What Mitto's two APIs tell core's request pipeline: the key header, and how an answer is read.

use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, ExposeSecret, Result, SecretString};

use crate::SCHEME;

/// The header that carries the API key on both APIs.
pub const API_KEY_HEADER: &str = "X-Mitto-API-Key";

/// Mitto as core's [`Pipeline`](switchboard_core::pipeline::Pipeline) sees it. Both APIs take the key
/// in [`API_KEY_HEADER`] (Mitto's API pages: "Authentication"; a bearer token is refused) and answer
/// JSON.
pub struct MittoApi {
    api_key: SecretString,
}

impl std::fmt::Debug for MittoApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MittoApi").field("api_key", &"***").finish()
    }
}

impl MittoApi {
    /// The API with this key.
    pub fn new(api_key: SecretString) -> MittoApi {
        MittoApi { api_key }
    }
}

#[switchboard_core::async_trait]
impl Api for MittoApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(
            request
                .header(API_KEY_HEADER, self.api_key.expose_secret())
                .header(http::header::ACCEPT, "application/json"),
        ))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        crate::error::parse_error(reply)
    }
}
