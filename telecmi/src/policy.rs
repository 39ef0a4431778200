//! Who may place calls: the host decides.
//!
//! With admin credentials, TeleCMI rings whichever agent the request names; the API itself does not
//! check who asked. The integration this crate replaces hard-coded one user id in its click handler.
//! Here every click-to-call is put to a [`CallPolicy`] the host supplies *before* anything is sent; a
//! refusal is an [`ErrorKind::Rejected`](switchboard_core::ErrorKind::Rejected) error with
//! [`Dispatch::NotSent`](switchboard_core::Dispatch::NotSent), and TeleCMI never hears of it.
//!
//! The policy used when the host supplies none is [`DenyAll`]: a library that lets everyone call
//! until configured otherwise is how the old integration went wrong. [`AllowList`] and [`AllowAll`]
//! are the two simple answers; implement the trait to ask your own user store.
//!
//! ```
//! use switchboard_telecmi::{AllowList, CallPolicy, CallRequest, Decision};
//! # async fn demo(to: switchboard_core::PhoneNumber) {
//! let policy = AllowList::new(["101_1111112"]);
//! let ok = CallRequest::new("101_1111112", to.clone());
//! let no = CallRequest::new("102_1111112", to);
//! assert_eq!(policy.check(&ok).await, Decision::Allow);
//! assert!(matches!(policy.check(&no).await, Decision::Deny(_)));
//! # }
//! ```

use std::collections::BTreeSet;
use std::fmt;

use async_trait::async_trait;

use crate::config::Allow;
use crate::model::CallRequest;

/// A policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Place the call.
    Allow,
    /// Refuse it; the text says why (it goes into the error and the journal, so keep personal data out).
    Deny(String),
}

impl Decision {
    /// A refusal with a reason.
    pub fn deny(reason: impl Into<String>) -> Self {
        Decision::Deny(reason.into())
    }
}

/// Decides whether a click-to-call may be placed. Called once per call, before anything is sent.
///
/// The request carries the agent to ring, the destination, the host's `requested_by` (who clicked,
/// in the host's own terms) and the extra parameters, so a policy can check "this CRM user may ring
/// as this agent" or "no calls to premium numbers".
#[async_trait]
pub trait CallPolicy: Send + Sync + fmt::Debug {
    /// Whether `call` may be placed.
    async fn check(&self, call: &CallRequest) -> Decision;
}

/// Refuses every call: the policy in force until the host supplies one.
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyAll;

#[async_trait]
impl CallPolicy for DenyAll {
    async fn check(&self, _call: &CallRequest) -> Decision {
        Decision::deny(
            "no call policy is configured, so no one may place calls; supply a CallPolicy (AllowList, AllowAll) \
             or set allow= in the DSN",
        )
    }
}

/// Allows every call. Named so that choosing it is a visible decision in the host's code.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait]
impl CallPolicy for AllowAll {
    async fn check(&self, _call: &CallRequest) -> Decision {
        Decision::Allow
    }
}

/// Allows calls placed for the listed agent ids (`101_1111112`) and no others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    agents: BTreeSet<String>,
}

impl AllowList {
    /// An allow-list of agent ids.
    pub fn new<I, S>(agents: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AllowList {
            agents: agents.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the agent is on the list.
    pub fn contains(&self, agent: &str) -> bool {
        self.agents.contains(agent)
    }
}

#[async_trait]
impl CallPolicy for AllowList {
    async fn check(&self, call: &CallRequest) -> Decision {
        if self.contains(&call.agent) {
            Decision::Allow
        } else {
            Decision::deny(format!("agent {} is not on the allow-list", call.agent))
        }
    }
}

/// A policy from a plain function, for checks that need no I/O.
pub struct FnPolicy<F>(pub F);

impl<F> fmt::Debug for FnPolicy<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnPolicy")
    }
}

#[async_trait]
impl<F> CallPolicy for FnPolicy<F>
where
    F: Fn(&CallRequest) -> Decision + Send + Sync,
{
    async fn check(&self, call: &CallRequest) -> Decision {
        (self.0)(call)
    }
}

/// The policy a configuration's [`Allow`] stands for.
pub(crate) fn from_allow(allow: &Allow) -> std::sync::Arc<dyn CallPolicy> {
    match allow {
        Allow::Nobody => std::sync::Arc::new(DenyAll),
        Allow::Agents(list) => std::sync::Arc::new(AllowList::new(list.iter().cloned())),
        Allow::Everyone => std::sync::Arc::new(AllowAll),
    }
}
