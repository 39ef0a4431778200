//! TeleCMI's authentication, all of it in the JSON body (doc.telecmi.com, every API page): the app
//! secret with an agent of the app (admin APIs; `secret`, or `token` on the legacy host), a user's id
//! and password for a login, and the token a login issued (user APIs). Tokens live until
//! `Simulator::expire_tokens` drops them, as TeleCMI's 30-day expiry would.

use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::state::{State, reply, uuid};
use super::{SIM_APP_ID, SIM_SECRET};
use crate::flex;

/// Whether `secret` is the app secret and `agent` a user of the app.
pub(super) fn admin_ok(s: &State, secret: &str, agent: &str) -> bool {
    let of_app = crate::config::split_user_id(agent).is_some_and(|(_, app)| app == SIM_APP_ID);
    secret == SIM_SECRET && of_app && s.users.contains_key(agent)
}

/// The user a body's `token` was issued to, if it is a live token.
pub(super) fn user_of_token(s: &State, f: &Map<String, Value>) -> Option<String> {
    flex::string(f, &["token"]).and_then(|t| s.tokens.get(&t).cloned())
}

/// `/v2/user/login` and the legacy `/v1/agentLogin`: a user's id and password for a token.
pub(super) fn login(s: &mut State, f: &Map<String, Value>, path: &str) -> ResponseTemplate {
    let (Some(id), Some(password)) = (flex::string(f, &["id"]), flex::string(f, &["password"])) else {
        return reply(400, "Parameter missing");
    };
    if s.users.get(&id) != Some(&password) {
        return reply(404, "Invalid user id or password, authentication failed");
    }
    let token = format!("tok-{}", uuid());
    s.tokens.insert(token.clone(), id.clone());
    s.logins += 1;
    let name = format!("Agent {}", id.split('_').next().unwrap_or(""));
    if path.starts_with("/v1/") {
        json_status(
            200,
            &json!({"code": 200, "msg": "Agent loged in successfully", "token": token,
                    "agent": {"id": id, "inet_no": SIM_APP_ID, "name": name}}),
        )
    } else {
        json_status(
            200,
            &json!({"code": 200, "msg": "User loged in successfully", "token": token,
                    "agent": {"category": "inr", "id": id, "inet_no": SIM_APP_ID, "name": name}}),
        )
    }
}
