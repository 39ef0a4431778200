//! What TeleCMI tells core's request pipeline: how an answer is read. Its credentials travel in the
//! JSON body, so there is nothing to put on the request.
//!
//! **Why the user token is not refreshed by the pipeline.** TeleCMI takes every credential in the JSON
//! body (the app secret as `secret` or `token`, a user's token as `token`; doc.telecmi.com, every API
//! page), never in a header, so [`TeleCmiApi::authorize`] adds nothing and the client writes the token
//! into the body it builds. The one repeat after a refused user token stays in the client as well
//! (`TeleCmiClient`'s `with_token`): the pipeline asks [`Api::stale_credentials`] only about answers
//! whose dispatch fact is `NotSent`, while TeleCMI's refusals are answers whose word is final (`Sent`),
//! and the user click-to-call's one documented 404 ("Invalid Number, failed to authenticate token")
//! must be read as a refused number when it comes again with a freshly issued token — a reading of
//! the second answer that `stale_credentials` cannot give.

use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, Result};

use crate::SCHEME;

/// TeleCMI as core's [`Pipeline`](switchboard_core::pipeline::Pipeline) sees it. See the
/// [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct TeleCmiApi;

#[switchboard_core::async_trait]
impl Api for TeleCmiApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// Nothing to add: the credentials are in the body the client wrote.
    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(request))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        crate::error::parse_error(reply)
    }
}
