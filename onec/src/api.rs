//! [`OneCApi`]: what core's [`Pipeline`](switchboard_core::pipeline::Pipeline) needs to know about a 1C
//! publication — its name, how a request carries the infobase user, and how an answer is read as an
//! error.
//!
//! A publication serves two interfaces with different error contracts, so the client keeps one
//! pipeline for each ([`Surface`]): the standard OData interface answers failures with its
//! `odata.error` envelope, while an HTTP service answers whatever its developer wrote, and only its
//! HTTP status means anything to this crate.

use std::fmt;

use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, ExposeSecret, Result, SecretString, async_trait};

use crate::SCHEME;
use crate::config::OneCConfig;
use crate::error;

/// Which interface of a publication a pipeline talks to; it decides how an error answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The standard OData interface (`…/odata/standard.odata`): `odata.error` bodies, read by
    /// [`error::parse_error`].
    OData,
    /// HTTP services (`…/hs/…`): the status decides, the body is kept as the provider's text
    /// ([`error::parse_service_error`]).
    HttpService,
}

/// 1C as core's pipeline sees it: HTTP Basic with the infobase user, and 1C's error answers.
#[derive(Clone)]
pub struct OneCApi {
    user: String,
    password: SecretString,
    surface: Surface,
}

/// Shows the user (it tells which 1C rights apply) but never the password.
impl fmt::Debug for OneCApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneCApi")
            .field("user", &self.user)
            .field("surface", &self.surface)
            .finish_non_exhaustive()
    }
}

impl OneCApi {
    /// The API of the configured infobase user, for one interface of the publication.
    pub fn new(config: &OneCConfig, surface: Surface) -> Self {
        OneCApi {
            user: config.user.clone(),
            password: config.password.clone(),
            surface,
        }
    }

    /// The interface this API reads answers of.
    pub fn surface(&self) -> Surface {
        self.surface
    }
}

#[async_trait]
impl Api for OneCApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// A 1C web publication authenticates the infobase user with HTTP Basic on every request (1C:Enterprise
    /// documentation, "Standard OData interface": authentication of the web publication), so the
    /// password goes with every request; the configuration refuses plain HTTP to another machine unless
    /// asked for.
    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(
            request.basic_auth(&self.user, Some(self.password.expose_secret())),
        ))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        match self.surface {
            Surface::OData => error::parse_error(reply),
            Surface::HttpService => error::parse_service_error(reply),
        }
    }
}
