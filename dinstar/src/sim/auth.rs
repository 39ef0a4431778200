//! Digest authentication as the gateway checks it (RFC 7616, MD5, `qop=auth`), written here from the
//! RFC with a plain MD5, independently of the client's `switchboard_core::digest`: realm, the response
//! hash, the request URI, `opaque`, nonce expiry and replays, failed logins and the ban after them.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use md5::{Digest, Md5};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::state::{NonceInfo, State};

impl State {
    pub(super) fn authorize(&mut self, req: &Request) -> std::result::Result<(), Box<ResponseTemplate>> {
        if self.banned {
            self.stats.forbidden += 1;
            return Err(Box::new(
                ResponseTemplate::new(403).set_body_string("forbid to try again"),
            ));
        }
        if req.url.query().is_some_and(|q| q.contains(',')) {
            // One firmware's web server answers "401 Wrong Password" to an unencoded comma.
            return Err(Box::new(self.failed_login()));
        }
        let Some(header) = req.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            self.stats.unauthenticated += 1;
            if self.count_probes {
                return Err(Box::new(self.failed_login()));
            }
            return Err(Box::new(self.challenge(false)));
        };
        let Some(params) = parse_digest(header) else {
            return Err(Box::new(self.failed_login()));
        };
        let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
        let target = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        let algorithm_ok = matches!(params.get("algorithm").map(String::as_str), None | Some("MD5" | "md5"));
        let opaque_ok = params.get("opaque").is_none_or(|o| *o == self.opaque);
        let nc = u32::from_str_radix(get("nc"), 16).ok().filter(|_| get("nc").len() == 8);
        let shaped = get("username") == self.username
            && get("realm") == self.realm
            && get("uri") == target
            && get("qop") == "auth"
            && !get("cnonce").is_empty()
            && !get("nonce").is_empty()
            && nc.is_some()
            && algorithm_ok
            && opaque_ok;
        let expected = response_hash(
            &self.username,
            &self.realm,
            &self.password,
            req.method.as_str(),
            &target,
            get("nonce"),
            get("nc"),
            get("cnonce"),
            "auth",
        );
        if !shaped || !ct_eq(get("response"), &expected) {
            return Err(Box::new(self.failed_login()));
        }
        let ttl = self.nonce_ttl;
        let Some(info) = self.nonces.get_mut(get("nonce")) else {
            // A correct answer to a nonce this server does not know (reboot, or never issued).
            return Err(Box::new(self.challenge(true)));
        };
        if info.expired || info.issued.elapsed() > ttl {
            info.expired = true;
            return Err(Box::new(self.challenge(true)));
        }
        let nc = nc.unwrap_or_default();
        if !info.seen.insert(nc) {
            // The same count twice with one nonce: a replay (RFC 7616 §3.4).
            return Err(Box::new(self.failed_login()));
        }
        self.failures_since_success = 0;
        Ok(())
    }

    pub(super) fn failed_login(&mut self) -> ResponseTemplate {
        self.stats.auth_failures += 1;
        self.failures_since_success += 1;
        if let Some(n) = self.ban_after
            && self.failures_since_success >= n
        {
            self.banned = true;
        }
        self.challenge(false)
    }

    pub(super) fn challenge(&mut self, stale: bool) -> ResponseTemplate {
        self.stats.challenges += 1;
        if stale {
            self.stats.stale += 1;
        }
        let nonce = hex::encode(switchboard_core::random::bytes::<16>());
        self.nonces.insert(
            nonce.clone(),
            NonceInfo {
                issued: Instant::now(),
                expired: false,
                seen: HashSet::new(),
            },
        );
        self.nonce_order.push_back(nonce.clone());
        while self.nonce_order.len() > 256 {
            if let Some(old) = self.nonce_order.pop_front() {
                self.nonces.remove(&old);
            }
        }
        let mut value = format!(
            r#"Digest realm="{}", qop="auth", nonce="{nonce}", opaque="{}", algorithm=MD5"#,
            self.realm, self.opaque
        );
        if stale {
            value.push_str(", stale=true");
        }
        ResponseTemplate::new(401)
            .insert_header("www-authenticate", value.as_str())
            .set_body_string("401 Unauthorized")
    }
}

pub(super) fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// `response` of RFC 7616 §3.4.1 for MD5 with `qop=auth`:
/// `KD(H(A1), nonce:nc:cnonce:qop:H(A2))` with `A1 = user:realm:password`, `A2 = method:uri`.
#[allow(clippy::too_many_arguments)]
pub fn response_hash(
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
    qop: &str,
) -> String {
    let ha1 = md5_hex(&format!("{username}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))
}

pub(super) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses `Digest k=v, k="v", …` (quoted strings may hold commas and `\"`). `None` when the scheme
/// is not Digest or the syntax is broken.
pub fn parse_digest(header: &str) -> Option<HashMap<String, String>> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.to_ascii_lowercase(), value);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7616_md5_example() {
        // RFC 7616 §3.9.1.
        assert_eq!(
            response_hash(
                "Mufasa",
                "http-auth@example.org",
                "Circle of Life",
                "GET",
                "/dir/index.html",
                "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                "00000001",
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                "auth",
            ),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
    }

    #[test]
    fn digest_header_parsing() {
        let p = parse_digest(r#"Digest username="Mu\"fasa", realm="a, b", nc=00000001, qop=auth"#).unwrap();
        assert_eq!(p["username"], "Mu\"fasa");
        assert_eq!(p["realm"], "a, b");
        assert_eq!(p["nc"], "00000001");
        assert!(parse_digest("Basic abc").is_none());
        assert!(parse_digest(r#"Digest realm="open"#).is_none());
        assert!(parse_digest("Digest =x").is_none());
    }
}
