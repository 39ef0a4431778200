//! Who may call: the account's `api_id`, or its `login` and `password`, checked before anything else
//! (SMS.ru answers `200` for a wrong `api_id` and `301` for a wrong login or password).

use super::api::Params;
use super::state::State;
use super::{SIM_LOGIN, SIM_PASSWORD};

/// `Ok` for the account's credentials, else the code SMS.ru refuses the request with.
pub(super) fn check(st: &State, p: &Params) -> Result<(), i32> {
    match (p.get("api_id"), p.get("login"), p.get("password")) {
        (Some(id), _, _) if id == st.api_id => Ok(()),
        (Some(_), _, _) => Err(200),
        (None, Some(l), Some(pw)) if l == SIM_LOGIN && pw == SIM_PASSWORD => Ok(()),
        (None, Some(_), _) => Err(301),
        _ => Err(200),
    }
}
