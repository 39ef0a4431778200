//! The MightyCall client: one async method per API operation.
//!
//! Every request goes through core's [`Pipeline`] over [`MightyCallApi`], which puts the API key and
//! the bearer token on each attempt and refreshes the token once on a 401 (see [`crate::api`]). Other
//! failures follow the retry policy: sends are retried only when nothing was sent (a failed token fetch
//! counts as nothing sent); reads on any temporary failure.

use std::fmt;
use std::sync::Arc;

use futures::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_core::clock::{Clock, SystemClock};
use switchboard_core::http::Reply;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::token::TokenState;
use switchboard_core::{Error, Idempotence, Result};

use crate::SCHEME;
use crate::api::MightyCallApi;
use crate::config::MightyCallConfig;
use crate::error::unsuccessful;
use crate::history::{self, HistoryPage, SyncCursor};
use crate::model::{
    BusinessNumber, JournalPage, JournalQuery, JournalRequest, SendMessageRequest, SendResult, unwrap_envelope,
};
use crate::paths::{self, Endpoint};

/// A MightyCall API client. Clones share the connection pools and the token.
#[derive(Clone)]
pub struct MightyCallClient {
    /// Calls with the bearer token.
    calls: Arc<Pipeline<MightyCallApi>>,
    /// Calls with the key only: ping (and, inside the token cache, the token endpoint).
    open: Arc<Pipeline<MightyCallApi>>,
    config: MightyCallConfig,
}

impl fmt::Debug for MightyCallClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MightyCallClient")
            .field("config", &self.config)
            .field("api", self.calls.api())
            .finish()
    }
}

impl MightyCallClient {
    /// A client for `config` on the system clock.
    pub fn new(config: MightyCallConfig) -> Result<MightyCallClient> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client whose token cache reads `clock` (tests pass a
    /// [`ManualClock`](switchboard_core::clock::ManualClock) to jump past the 24 h expiry).
    pub fn with_clock(config: MightyCallConfig, clock: Arc<dyn Clock>) -> Result<MightyCallClient> {
        config.validate().map_err(|e| e.with_provider(SCHEME))?;
        let open = Arc::new(Pipeline::new(
            MightyCallApi::keyed(config.api_key.clone()),
            &config.http,
            config.retry.clone(),
        )?);
        let token_url = url(&config, Endpoint::Token);
        let api = MightyCallApi::with_tokens(
            open.clone(),
            token_url,
            config.api_key.clone(),
            config.user_key.clone(),
            clock,
            config.refresh_margin(),
        );
        let calls = Arc::new(Pipeline::new(api, &config.http, config.retry.clone())?);
        Ok(MightyCallClient { calls, open, config })
    }

    /// The configuration.
    pub fn config(&self) -> &MightyCallConfig {
        &self.config
    }

    /// Where the token cache stands.
    pub fn token_state(&self) -> TokenState {
        self.calls.api().token_state()
    }

    /// Fetches a token now if there is no valid one (to check the credentials at start-up).
    pub async fn authenticate(&self) -> Result<()> {
        self.calls
            .api()
            .token()
            .await
            .map(|_| ())
            .map_err(|e| e.with_provider(SCHEME))
    }

    fn url(&self, endpoint: Endpoint<'_>) -> String {
        url(&self.config, endpoint)
    }

    // ----------------------------------------------------------------------------------------------
    // Operations
    // ----------------------------------------------------------------------------------------------

    /// `GET /api/ping` (no token needed): the answer's `data`.
    pub async fn ping(&self) -> Result<Value> {
        let url = self.url(Endpoint::Ping);
        let reply = self.open.reply(Idempotence::Idempotent, |h| h.get(&url)).await?;
        data_of(&self.open, &reply)
    }

    /// Sends an SMS from a business number (`POST …/messages/send`; the path depends on the flavour).
    /// The answer's id field is not documented; [`SendResult::id`] is whichever was found.
    pub async fn send_message(&self, request: &SendMessageRequest) -> Result<SendResult> {
        if request.to.is_empty() {
            return Err(Error::invalid_input("a MightyCall message needs at least one receiver").with_provider(SCHEME));
        }
        if request.message.is_empty() && request.attachments.is_empty() {
            return Err(Error::invalid_input("the message text is empty").with_provider(SCHEME));
        }
        let url = self.url(Endpoint::SendMessage);
        let reply = self
            .calls
            .reply(Idempotence::NotIdempotent, |h| h.post(&url).json(request))
            .await?;
        // A 2xx that is not JSON: MightyCall took the request, so the message may well be out (the
        // pipeline's decode error says `Sent`).
        let raw: Value = self.calls.decode(&reply).map_err(|e| {
            e.with_message(
                "MightyCall accepted the message but its answer is not JSON; check the journal before resending",
            )
        })?;
        let data = unwrap_envelope(raw.clone()).map_err(|_| unsuccessful(&reply))?;
        Ok(SendResult::from_answer(raw, &data))
    }

    /// One page (1-based) of the journal (`GET /api/journal/requests`).
    ///
    /// Entries are read one by one: one that does not read is kept in
    /// [`JournalPage::undecodable`] with its raw JSON (and logged at `warn`, by id and reason only),
    /// and the rest of the page is answered. Only a page that is not a page at all is an error.
    pub async fn journal_page(&self, query: &JournalQuery, page: u32) -> Result<JournalPage> {
        let url = self.url(Endpoint::Journal);
        let params = query.to_params(page);
        let reply = self
            .calls
            .reply(Idempotence::Idempotent, |h| h.get(&url).query(&params))
            .await?;
        let page: JournalPage = typed(data_of(&self.calls, &reply)?)?;
        for u in &page.undecodable {
            tracing::warn!(
                id = ?u.id,
                reason = %u.reason,
                "MightyCall journal entry skipped: it does not read as a journal entry; it is kept in the page's \
                 undecodable entries"
            );
        }
        Ok(page)
    }

    /// One journal entry by id (`GET /api/journal/requests/{id}`).
    pub async fn journal_request(&self, id: &str) -> Result<JournalRequest> {
        if id.is_empty() || id.len() > 128 {
            return Err(Error::invalid_input("the MightyCall request id is empty or too long").with_provider(SCHEME));
        }
        let url = self.url(Endpoint::JournalRequest(id));
        let reply = self.calls.reply(Idempotence::Idempotent, |h| h.get(&url)).await?;
        let data = data_of(&self.calls, &reply)?;
        // Some answers nest the record under `request`.
        let record = match data.get("request") {
            Some(inner @ Value::Object(_)) => inner.clone(),
            _ => data,
        };
        crate::journal::decode_entry(record).map_err(|u| {
            Error::decode(format!("MightyCall's journal entry does not read: {}", u.reason)).with_provider(SCHEME)
        })
    }

    /// The history of `cursor`'s window as a stream of pages, each with the cursor to resume after it
    /// (see [`crate::history`]).
    pub fn history(
        &self,
        cursor: SyncCursor,
        filter: JournalQuery,
    ) -> impl Stream<Item = Result<HistoryPage>> + Send + '_ {
        history::pages(self, cursor, filter)
    }

    /// The account's business numbers (`GET /api/phonenumbers`).
    pub async fn business_numbers(&self) -> Result<Vec<BusinessNumber>> {
        let url = self.url(Endpoint::BusinessNumbers);
        let reply = self.calls.reply(Idempotence::Idempotent, |h| h.get(&url)).await?;
        let data = data_of(&self.calls, &reply)?;
        // An array, or an object holding one (`phoneNumbers`, `businessNumbers`, `items`).
        let list = match data {
            Value::Array(_) => data,
            Value::Object(o) => o
                .into_iter()
                .map(|(_, v)| v)
                .find(Value::is_array)
                .unwrap_or(Value::Array(vec![])),
            _ => return Err(Error::decode("MightyCall's business-number answer is not a list").with_provider(SCHEME)),
        };
        typed(list)
    }
}

/// The full URL of `endpoint` under the configured base URL.
fn url(config: &MightyCallConfig, endpoint: Endpoint<'_>) -> String {
    format!(
        "{}{}",
        config.base_url(),
        paths::path(config.flavour, config.path_style, endpoint)
    )
}

/// The `data` of a successful answer (the envelope stripped). The pipeline already turned a failed
/// answer into its error; an answer that does not decode is `Decode` + `Sent`.
fn data_of(pipeline: &Pipeline<MightyCallApi>, reply: &Reply) -> Result<Value> {
    let v: Value = pipeline.decode(reply)?;
    unwrap_envelope(v).map_err(|_| unsuccessful(reply))
}

/// `v` as a `T`. serde's message quotes the offending value, which may be a phone number, so only
/// its category goes into the error.
fn typed<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "a field has an unexpected type or value",
            _ => "it is not the JSON expected",
        };
        Error::decode(format!("MightyCall's answer is not the shape expected: {what}")).with_provider(SCHEME)
    })
}
