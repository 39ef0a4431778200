//! The simulated project's state: issued tokens, devices, accepted messages and the errors queued for
//! the next sends.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::Value;
use switchboard_core::MessageId;

use super::SIM_PROJECT_ID;
use crate::auth::JwtClaims;

/// An error the next send receives instead of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimError {
    /// HTTP status.
    pub http: u16,
    /// Canonical status (`UNAVAILABLE`).
    pub status: String,
    /// FCM error code for the `FcmError` detail, if any.
    pub fcm_code: Option<String>,
    /// Message.
    pub message: String,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

impl SimError {
    /// Any error.
    pub fn new(http: u16, status: &str, fcm_code: Option<&str>, message: &str) -> Self {
        SimError {
            http,
            status: status.into(),
            fcm_code: fcm_code.map(str::to_owned),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 `RESOURCE_EXHAUSTED` / `QUOTA_EXCEEDED`.
    pub fn quota_exceeded(retry_after: Option<u64>) -> Self {
        SimError {
            retry_after,
            ..Self::new(
                429,
                "RESOURCE_EXHAUSTED",
                Some("QUOTA_EXCEEDED"),
                "Quota exceeded for quota metric 'Send messages'.",
            )
        }
    }

    /// 503 `UNAVAILABLE`.
    pub fn unavailable(retry_after: Option<u64>) -> Self {
        SimError {
            retry_after,
            ..Self::new(
                503,
                "UNAVAILABLE",
                Some("UNAVAILABLE"),
                "The service is currently unavailable.",
            )
        }
    }

    /// 500 `INTERNAL`.
    pub fn internal() -> Self {
        Self::new(500, "INTERNAL", Some("INTERNAL"), "Internal error encountered.")
    }

    /// 401 `THIRD_PARTY_AUTH_ERROR` (bad APNs certificate or web push key).
    pub fn third_party_auth_error() -> Self {
        Self::new(
            401,
            "UNAUTHENTICATED",
            Some("THIRD_PARTY_AUTH_ERROR"),
            "Auth error from APNS or Web Push Service",
        )
    }

    /// 500 `UNSPECIFIED_ERROR`.
    pub fn unspecified() -> Self {
        Self::new(500, "UNKNOWN", Some("UNSPECIFIED_ERROR"), "Unknown error.")
    }
}

/// A message the simulator accepted, as it came (read it whole with
/// [`Simulator::message`](super::Simulator::message)).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SimMessage {
    /// `projects/{id}/messages/{message_id}`.
    pub name: String,
    /// The message as it came.
    pub message: Value,
}

impl std::fmt::Debug for SimMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimMessage")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SimMessage {
    /// The device token it went to.
    pub fn token(&self) -> Option<&str> {
        self.message.get("token").and_then(Value::as_str)
    }

    /// The topic it went to.
    pub fn topic(&self) -> Option<&str> {
        self.message.get("topic").and_then(Value::as_str)
    }

    /// The topic condition it went to.
    pub fn condition(&self) -> Option<&str> {
        self.message.get("condition").and_then(Value::as_str)
    }

    /// One data value.
    pub fn data(&self, key: &str) -> Option<&str> {
        self.message.get("data")?.get(key)?.as_str()
    }

    /// The notification title.
    pub fn title(&self) -> Option<&str> {
        self.message.get("notification")?.get("title")?.as_str()
    }

    /// The notification body.
    pub fn body(&self) -> Option<&str> {
        self.message.get("notification")?.get("body")?.as_str()
    }
}

/// An access token the token endpoint handed out.
pub(super) struct Issued {
    pub(super) expires: Instant,
    pub(super) scopes: Vec<String>,
}

/// Everything the simulated project knows.
pub(super) struct State {
    pub(super) project_id: String,
    pub(super) client_email: String,
    pub(super) token_uri: String,
    pub(super) tokens: HashMap<String, Issued>,
    pub(super) token_lifetime: u64,
    pub(super) token_requests: usize,
    pub(super) send_requests: usize,
    pub(super) sent: Vec<SimMessage>,
    pub(super) devices: HashSet<String>,
    pub(super) unregistered: HashSet<String>,
    pub(super) foreign: HashSet<String>,
    pub(super) strict_tokens: bool,
    pub(super) errors: VecDeque<SimError>,
    pub(super) assertions: Vec<JwtClaims>,
}

/// The state behind the server's handler and the simulator's drivers.
pub(super) struct Inner {
    state: Mutex<State>,
    counter: AtomicU64,
}

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A number no earlier call returned.
    pub(super) fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A project with no devices, tokens or messages yet.
pub(super) fn new_inner() -> Arc<Inner> {
    Arc::new(Inner {
        state: Mutex::new(State {
            project_id: SIM_PROJECT_ID.into(),
            client_email: format!("firebase-adminsdk-sim@{SIM_PROJECT_ID}.iam.gserviceaccount.com"),
            token_uri: String::new(),
            tokens: HashMap::new(),
            token_lifetime: 3599,
            token_requests: 0,
            send_requests: 0,
            sent: Vec::new(),
            devices: HashSet::new(),
            unregistered: HashSet::new(),
            foreign: HashSet::new(),
            strict_tokens: false,
            errors: VecDeque::new(),
            assertions: Vec::new(),
        }),
        counter: AtomicU64::new(0),
    })
}

/// A token shaped like FCM's: an instance id, `:APA91b`, and a long tail.
pub(super) fn device_token() -> String {
    let a = MessageId::random();
    let tail: String = (0..4).map(|_| MessageId::random().as_str().to_owned()).collect();
    format!("{}:APA91b{}", &a.as_str()[..22], tail)
}
