//! The 1C crate against its simulator, in one test binary: the OData client (addressing, reads,
//! paging, writes, posting, errors, auth), `$filter` escaping, HTTP services, faults and dispatch facts
//! (creates are never repeated blind), the sync end to end, and registration with the shared simulator
//! vocabulary.

mod common;
mod faults;
mod filter;
mod http_service;
mod odata;
mod provider;
mod sync;
