//! The Bot API as the request pipeline sees it. The bot token is part of every method's URL
//! (`/bot<token>/<method>`), which the client builds, so there is nothing to add to a request here;
//! answers are read by [`parse_error`]. Those URLs are never logged and never reach an error: the
//! pipeline logs errors only, and core's mapping of connection errors leaves the URL out.

use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, Result};

use crate::SCHEME;
use crate::error::parse_error;

/// The Bot API's side of the request pipeline.
#[derive(Debug, Default)]
pub struct TelegramApi;

#[switchboard_core::async_trait]
impl Api for TelegramApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(request))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        parse_error(reply)
    }
}
