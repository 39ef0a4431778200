//! [`TwilioApi`]: what core's [`Pipeline`](switchboard_core::pipeline::Pipeline) needs to know about
//! Twilio — its name, HTTP Basic auth with the account's credentials, and how an answer is read as an
//! error.

use std::fmt;

use switchboard_core::error::Result;
use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, ExposeSecret, SecretString, async_trait};

use crate::SCHEME;
use crate::error;

/// Twilio's side of the request pipeline.
#[derive(Clone)]
pub struct TwilioApi {
    account_sid: String,
    auth_token: SecretString,
}

/// Never shows the auth token.
impl fmt::Debug for TwilioApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioApi")
            .field("auth_token", &"***")
            .finish_non_exhaustive()
    }
}

impl TwilioApi {
    /// The API of this account.
    pub fn new(account_sid: impl Into<String>, auth_token: SecretString) -> Self {
        TwilioApi {
            account_sid: account_sid.into(),
            auth_token,
        }
    }
}

#[async_trait]
impl Api for TwilioApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// HTTP Basic auth, `AccountSid:AuthToken` (<https://www.twilio.com/docs/usage/requests-to-twilio>).
    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(
            request.basic_auth(&self.account_sid, Some(self.auth_token.expose_secret())),
        ))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        error::parse_error(reply)
    }
}
