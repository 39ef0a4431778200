//! The [`Transport`] trait: what every message-carrying integration offers the Messenger.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::message::{Message, Receipt, Recipient, StatusReport};
use crate::store::Store;
use crate::webhook::{Handled, WebhookRequest};

/// Anything the Messenger can take as a transport: a transport by value, or one already shared as an
/// `Arc<dyn Transport>` (what [`Registry::connect`](crate::Registry::connect) hands out), so that one
/// builder call, `transport(name, t)`, takes both.
pub trait IntoTransport {
    /// The shared transport.
    fn into_transport(self) -> Arc<dyn Transport>;
}

impl<T: Transport + 'static> IntoTransport for T {
    fn into_transport(self) -> Arc<dyn Transport> {
        Arc::new(self)
    }
}

impl IntoTransport for Arc<dyn Transport> {
    fn into_transport(self) -> Arc<dyn Transport> {
        self
    }
}

/// What a lookup found about an attempt that may have gone out ([`Transport::reconcile`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reconciled {
    /// The provider has it: this is its receipt.
    Landed(Box<Receipt>),
    /// The provider certainly does not have it (and will not get it later): it may be sent again.
    NotLanded,
    /// The provider cannot tell (no lookup, or the answer was ambiguous).
    CannotTell,
}

/// What a transport can do. The conformance suite runs only the checks a transport declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Sends SMS to phone numbers.
    pub sms: bool,
    /// Sends text outside GSM-7 (Cyrillic, emoji).
    pub unicode: bool,
    /// Sends texts longer than one segment.
    pub long_messages: bool,
    /// Answers status lookups.
    pub status: bool,
    /// Pushes delivery reports by webhook.
    pub delivery_reports: bool,
    /// Receives inbound messages.
    pub inbound: bool,
    /// Sends email.
    pub email: bool,
    /// Sends push notifications.
    pub push: bool,
    /// Sends chat messages.
    pub chat: bool,
    /// Places calls.
    pub voice: bool,
}

impl Capabilities {
    /// An SMS transport with unicode and long messages.
    pub const fn sms() -> Self {
        Capabilities {
            sms: true,
            unicode: true,
            long_messages: true,
            status: false,
            delivery_reports: false,
            inbound: false,
            email: false,
            push: false,
            chat: false,
            voice: false,
        }
    }

    /// Nothing at all; set fields with the `with_*` methods.
    pub const fn none() -> Self {
        Capabilities {
            sms: false,
            unicode: false,
            long_messages: false,
            status: false,
            delivery_reports: false,
            inbound: false,
            email: false,
            push: false,
            chat: false,
            voice: false,
        }
    }

    /// Adds status lookups.
    pub const fn with_status(mut self) -> Self {
        self.status = true;
        self
    }

    /// Adds delivery reports.
    pub const fn with_delivery_reports(mut self) -> Self {
        self.delivery_reports = true;
        self
    }

    /// Adds inbound messages.
    pub const fn with_inbound(mut self) -> Self {
        self.inbound = true;
        self
    }

    /// Adds email.
    pub const fn with_email(mut self) -> Self {
        self.email = true;
        self
    }

    /// Adds push.
    pub const fn with_push(mut self) -> Self {
        self.push = true;
        self
    }

    /// Adds chat.
    pub const fn with_chat(mut self) -> Self {
        self.chat = true;
        self
    }

    /// Adds calls.
    pub const fn with_voice(mut self) -> Self {
        self.voice = true;
        self
    }
}

/// A way to deliver [`Message`]s: one provider account, configured.
///
/// Implementations must classify their errors with the right [`Dispatch`](crate::Dispatch) fact, since
/// the Messenger's failover moves to another transport only when a send certainly did not land.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// The provider's name (`"dinstar"`, `"mitto"`), used in errors and logs.
    fn provider(&self) -> &'static str;

    /// What this transport can do.
    fn capabilities(&self) -> Capabilities;

    /// Whether this transport can reach the recipient (an SMS transport takes phones only).
    fn supports(&self, recipient: &Recipient) -> bool {
        let caps = self.capabilities();
        match recipient {
            Recipient::Phone(_) => caps.sms,
            Recipient::Email(_) => caps.email,
            Recipient::PushToken(_) | Recipient::PushTopic(_) => caps.push,
            Recipient::Chat(_) => caps.chat,
        }
    }

    /// Sends one message. On success the provider accepted it; on failure the error's dispatch fact
    /// says whether it may have gone out anyway.
    async fn send(&self, message: &Message) -> Result<Receipt>;

    /// Sends several messages, in order, answering one result per message in the same order.
    ///
    /// The default sends them one by one. Providers with a bulk API override it (Dinstar puts up to
    /// 128 recipients of the same text in one request, Mitto has `/smsbulk`), which is why the
    /// command-line `send` and the Messenger's batch paths call this rather than `send` in a loop.
    async fn send_many(&self, messages: &[Message]) -> Vec<Result<Receipt>> {
        let mut out = Vec::with_capacity(messages.len());
        for m in messages {
            out.push(self.send(m).await);
        }
        out
    }

    /// Chooses, before a send, a reference the provider can later be searched by (a Dinstar
    /// `user_id`), so that a durable sender can note it in its store *before* the request leaves and
    /// reconcile the attempt after a crash. The Messenger puts it in [`Message::reference`], and
    /// `send` must use it. The default: none (the provider offers no such lookup).
    async fn prepare(&self, message: &Message) -> Result<Option<String>> {
        let _ = message;
        Ok(None)
    }

    /// Looks for what an earlier attempt to send `message` under `reference` (from
    /// [`Transport::prepare`]) left at the provider. Only transports with a `prepare` can answer more
    /// than [`Reconciled::CannotTell`], which is the default.
    async fn reconcile(&self, message: &Message, reference: &str) -> Result<Reconciled> {
        let _ = (message, reference);
        Ok(Reconciled::CannotTell)
    }

    /// Hands the transport the deployment's [`Store`], for state that must be shared by every process
    /// (Dinstar draws its `user_id`s from the store's sequences so no two processes use the same one).
    /// The Messenger calls it when built with a store. The default ignores it.
    fn use_store(&self, store: Arc<dyn Store>) {
        let _ = store;
    }

    /// What sending `message` would cost, where the provider can tell before sending (SMS.ru's
    /// `sms/cost`); `None` when it cannot. Nothing is sent. Used by dry runs.
    async fn estimate_cost(&self, message: &Message) -> Result<Option<crate::price::Price>> {
        let _ = message;
        Ok(None)
    }

    /// Looks up where a sent message is now, by the provider id a [`Receipt`] carries
    /// ([`Receipt::provider_id`]).
    async fn status(&self, provider_id: &str) -> Result<StatusReport> {
        let _ = provider_id;
        Err(Error::unsupported("this transport cannot look up message status").with_provider(self.provider()))
    }

    /// Verifies and decodes a webhook the provider pushed (inbound messages, delivery reports), and says
    /// what to answer the provider (see [`Handled`]).
    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled> {
        let _ = request;
        Err(Error::unsupported("this transport receives no webhooks").with_provider(self.provider()))
    }
}

/// Something that receives provider webhooks without being a message transport (TeleCMI call events,
/// payment notifications). The Messenger routes `handle_webhook` calls to these by name, as it does
/// for transports.
#[async_trait]
pub trait WebhookHandler: Send + Sync + std::fmt::Debug {
    /// The provider's name, used in errors and logs.
    fn provider(&self) -> &'static str;

    /// Verifies and decodes one webhook request, and says what to answer the provider.
    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled>;
}
