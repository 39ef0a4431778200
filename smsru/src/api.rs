//! [`SmsRuApi`]: what core's [`Pipeline`](switchboard_core::pipeline::Pipeline) needs to know about
//! SMS.ru — its name, how a request carries the credentials, and how an answer is read as an error.

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use switchboard_core::error::Result;
use switchboard_core::http::{Reply, classify_reqwest_error};
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, async_trait};

use crate::SCHEME;
use crate::config::Credentials;
use crate::error;

/// SMS.ru's side of the request pipeline.
#[derive(Debug, Clone)]
pub struct SmsRuApi {
    credentials: Credentials,
}

impl SmsRuApi {
    /// The API of an account with these credentials.
    pub fn new(credentials: Credentials) -> Self {
        SmsRuApi { credentials }
    }
}

#[async_trait]
impl Api for SmsRuApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// SMS.ru reads the credentials (`api_id`, or `login` and `password`) from the form body of the
    /// `POST` (<https://sms.ru/api/send>), so they are appended to the form the client built; they never
    /// go into the URL, where an access log would keep them.
    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        let (http, request) = request.build_split();
        let mut request = request.map_err(classify_reqwest_error)?;
        let mut body = match request.body() {
            None => Vec::new(),
            Some(b) => b
                .as_bytes()
                .ok_or_else(|| Error::config("an SMS.ru request body must be a form, not a stream"))?
                .to_vec(),
        };
        let credentials = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.credentials.form())
            .finish();
        if !body.is_empty() {
            body.push(b'&');
        }
        body.extend_from_slice(credentials.as_bytes());
        *request.body_mut() = Some(body.into());
        request.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        Ok(Authorized::new(reqwest::RequestBuilder::from_parts(http, request)))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        error::parse_error(reply)
    }
}
