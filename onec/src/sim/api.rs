//! Routing: a request to the publication goes to the OData interface (entity sets, keys, actions,
//! `$count`, `$metadata`) or to an HTTP service, after HTTP Basic authentication.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::WriteFault;
use super::codes;
use super::expr::parse_key;
use super::hs::{HsCall, HsHandler};
use super::state::{Fail, Reply, State, odata_error, odata_error_text};

impl State {
    pub(super) fn handle(&mut self, req: &Request) -> Routed {
        let Ok(path) = percent_encoding::percent_decode_str(req.url.path()).decode_utf8() else {
            return Routed::Done(odata_error(codes::BAD_SEGMENT).response());
        };
        let path = path.into_owned();
        let prefix = format!("/{}", self.opts.publication);
        let Some(rest) = path.strip_prefix(&prefix) else {
            return Routed::Done(ResponseTemplate::new(404).set_body_string("Not Found"));
        };
        if !super::auth::authorized(&self.opts, req) {
            return Routed::Done(
                ResponseTemplate::new(401)
                    .insert_header("www-authenticate", "Basic realm=\"1C:Enterprise\"")
                    .set_body_string(""),
            );
        }
        if let Some(hs) = rest.strip_prefix("/hs/") {
            return self.http_service(req, hs);
        }
        if let Some(od) = rest.strip_prefix("/odata/standard.odata") {
            return Routed::Done(self.odata(req, od).unwrap_or_else(Fail::response));
        }
        Routed::Done(ResponseTemplate::new(404).set_body_string("Not Found"))
    }

    pub(super) fn odata(&mut self, req: &Request, rest: &str) -> Reply {
        let rest = rest.trim_start_matches('/');
        let params: HashMap<String, String> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let method = req.method.as_str().to_ascii_uppercase();
        let wants_json = params
            .get("$format")
            .is_some_and(|f| f == "json" || f.starts_with("application/json"))
            || req
                .headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/json"));
        if rest.is_empty() {
            return Ok(self.service_document(wants_json));
        }
        if rest == "$metadata" {
            return Ok(ResponseTemplate::new(200).set_body_raw(self.edmx(), "application/xml"));
        }
        let (set, key, action) = split_resource(rest).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        if method == "GET" && !wants_json {
            return Ok(ResponseTemplate::new(200).set_body_raw(
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{set}</title></feed>"),
                "application/atom+xml",
            ));
        }
        let is_write = matches!(method.as_str(), "POST" | "PATCH" | "MERGE" | "PUT" | "DELETE");
        let fault = if is_write { self.write_faults.pop_front() } else { None };
        match fault {
            Some(WriteFault::InternalError) => return Err(odata_error(codes::INTERNAL)),
            Some(WriteFault::DelayWithoutApplying(d)) => {
                return Ok(odata_error(codes::INTERNAL).response().set_delay(d));
            }
            _ => {}
        }
        let key = match key {
            Some(k) => Some(parse_key(&k).map_err(|e| odata_error_text(codes::BAD_SEGMENT, &e))?),
            None => None,
        };
        let result = match (method.as_str(), key, action.as_deref()) {
            ("GET", None, None) => self.list(&set, &params),
            ("GET", None, Some("$count")) => self.count(&set, &params),
            ("GET", Some(k), None) => self.get_one(&set, &k, &params),
            ("POST", None, None) => self.create(&set, &req.body),
            ("PATCH" | "MERGE", Some(k), None) => self.patch(&set, &k, &req.body),
            ("DELETE", Some(k), None) => self.delete(&set, &k),
            ("POST", Some(k), Some("Post")) => {
                let operational = params
                    .get("PostingModeOperational")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                self.post(&set, &k, operational)
            }
            ("POST", Some(k), Some("Unpost")) => self.unpost(&set, &k),
            (_, _, Some(_)) => Err(odata_error(codes::BAD_SEGMENT)),
            _ => Err(Fail::Plain {
                status: 405,
                text: "Method Not Allowed",
            }),
        };
        if is_write && result.is_ok() {
            self.writes += 1;
            if req
                .headers
                .get("1C_OData_DataLoadMode")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                self.data_load_writes += 1;
            }
        }
        match fault {
            Some(WriteFault::ApplyThenDelay(d)) => Ok(result.unwrap_or_else(Fail::response).set_delay(d)),
            _ => result,
        }
    }
}

/// `Set`, `Set(key)`, `Set(key)/Action`, `Set/$count` → (set, key text, action).
pub(super) fn split_resource(rest: &str) -> Option<(String, Option<String>, Option<String>)> {
    let rest = rest.trim_end_matches('/');
    match rest.find(['(', '/']) {
        None => Some((rest.to_owned(), None, None)),
        Some(i) if rest[i..].starts_with('/') => {
            let action = &rest[i + 1..];
            (!action.contains('/')).then(|| (rest[..i].to_owned(), None, Some(action.to_owned())))
        }
        Some(i) => {
            let set = &rest[..i];
            // the matching ')', skipping quoted literals
            let mut in_quote = false;
            let mut end = None;
            for (j, c) in rest[i + 1..].char_indices() {
                match c {
                    '\'' => in_quote = !in_quote,
                    ')' if !in_quote => {
                        end = Some(i + 1 + j);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end?;
            let key = &rest[i + 1..end];
            let after = &rest[end + 1..];
            let action = match after.strip_prefix('/') {
                Some(a) if !a.is_empty() && !a.contains('/') => Some(a.to_owned()),
                Some(_) => return None,
                None if after.is_empty() => None,
                None => return None,
            };
            Some((set.to_owned(), Some(key.to_owned()), action))
        }
    }
}

/// Where a request went: answered, or to an HTTP service, which runs after the state is unlocked (so
/// a test's service can use the simulator's helpers).
pub(super) enum Routed {
    Done(ResponseTemplate),
    Service(HsHandler, HsCall),
}

pub(super) fn handler(state: Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
    Arc::new(move |req: &Request| {
        let routed = match state.lock() {
            Ok(mut st) => st.handle(req),
            Err(_) => return ResponseTemplate::new(500).set_body_string("simulator state poisoned"),
        };
        match routed {
            Routed::Done(r) => r,
            Routed::Service(h, call) => {
                let answer = h(&call);
                ResponseTemplate::new(answer.status)
                    .set_body_raw(answer.body.to_string(), "application/json; charset=utf-8")
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_split() {
        assert_eq!(split_resource("Catalog_X"), Some(("Catalog_X".into(), None, None)));
        assert_eq!(
            split_resource("Catalog_X(guid'1')/Post"),
            Some(("Catalog_X".into(), Some("guid'1'".into()), Some("Post".into())))
        );
        assert_eq!(
            split_resource("R(Code='a)b',N=1)"),
            Some(("R".into(), Some("Code='a)b',N=1".into()), None))
        );
        assert_eq!(
            split_resource("Catalog_X/$count"),
            Some(("Catalog_X".into(), None, Some("$count".into())))
        );
        assert_eq!(split_resource("Catalog_X(guid'1'"), None);
        assert_eq!(split_resource("Catalog_X(guid'1')x"), None);
        assert_eq!(split_resource("Catalog_X/a/b"), None);
    }
}
