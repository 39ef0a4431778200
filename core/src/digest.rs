//! HTTP Digest access authentication, the client's side: reading a `WWW-Authenticate: Digest …`
//! challenge and computing the `Authorization` answer to it.
//!
//! Written from RFC 7616 ("HTTP Digest Access Authentication", <https://www.rfc-editor.org/rfc/rfc7616>),
//! which obsoletes RFC 2617 and keeps its answers: MD5, SHA-256 and SHA-512/256, each also in its
//! `-sess` form; `qop=auth` and `qop=auth-int`; `userhash`; and the RFC 2069 answer (no `qop`, no
//! `nc`, no `cnonce`) for a challenge that offers no `qop`. A user name that a quoted string cannot
//! carry (non-ASCII, control characters) goes out as `username*` (RFC 7616 §3.4.4, RFC 5987).
//!
//! This module only computes; the flow (when to ask for a challenge, how to cache it, what a second
//! 401 means) belongs to the integration that knows its device. The nonce count is the caller's: it
//! must start at 1 for a new challenge and grow by one with every answer to the same nonce.
//!
//! ```
//! use switchboard_core::digest::{Challenge, Request};
//!
//! let c = Challenge::parse(r#"Digest realm="gw", nonce="abc", qop="auth", algorithm=MD5"#)?;
//! let header = c.authorization("admin", "secret", &Request::new("GET", "/api/x"), 1, "0a4f113b");
//! assert!(header.starts_with(r#"Digest username="admin", realm="gw", uri="/api/x""#));
//! # Ok::<(), switchboard_core::digest::DigestError>(())
//! ```

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

/// The hash algorithm of a challenge (RFC 7616 §3.3, `algorithm`; MD5 when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5`, the default.
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256`.
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl Algorithm {
    /// The algorithm a token names (case-insensitive), `None` for one this module does not know.
    pub fn from_token(token: &str) -> Option<Self> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
            Algorithm::Sha512_256,
            Algorithm::Sha512_256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(token))
    }

    /// The token as it appears in the headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// A `-sess` variant: A1 also hashes in the nonce and the client's nonce.
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }

    /// `H(data)` in lowercase hex.
    fn hex(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex::encode(Sha256::digest(data)),
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => hex::encode(Sha512_256::digest(data)),
        }
    }
}

/// A "quality of protection" a challenge offers (RFC 7616 §3.3, `qop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    /// `auth`: the method and the request target are protected.
    Auth,
    /// `auth-int`: the body too.
    AuthInt,
}

impl Qop {
    fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestError {
    /// The value is not a Digest challenge (another scheme, or empty).
    NotDigest,
    /// The parameters do not parse as `name=token` / `name="quoted string"` pairs.
    Malformed,
    /// A parameter the answer needs is absent (`realm`, `nonce`).
    Missing(&'static str),
    /// An `algorithm` this module does not implement.
    UnsupportedAlgorithm(String),
    /// A `qop` list with nothing this module implements, or a `-sess` algorithm without `qop`.
    UnsupportedQop(String),
}

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestError::NotDigest => f.write_str("not a Digest challenge"),
            DigestError::Malformed => f.write_str("the Digest challenge's parameters do not parse"),
            DigestError::Missing(p) => write!(f, "the Digest challenge has no {p}"),
            DigestError::UnsupportedAlgorithm(a) => write!(f, "unsupported Digest algorithm '{a}'"),
            DigestError::UnsupportedQop(q) => write!(f, "unsupported Digest qop '{q}'"),
        }
    }
}

impl std::error::Error for DigestError {}

/// One `Digest` challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back unchanged.
    pub opaque: Option<String>,
    /// `algorithm` (MD5 when absent).
    pub algorithm: Algorithm,
    /// The offered `qop` values this module implements; empty when the challenge offers none
    /// (an RFC 2069 server).
    pub qop: Vec<Qop>,
    /// `stale=true`: the previous answer's nonce expired, the credentials were fine.
    pub stale: bool,
    /// `userhash=true`: the user name goes out hashed with the realm.
    pub userhash: bool,
}

/// The request an answer is computed for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, as sent (`GET`, `POST`).
    pub method: &'a str,
    /// The request target exactly as on the request line (path and query).
    pub uri: &'a str,
    /// The body, hashed only for `qop=auth-int` (absent counts as empty).
    pub body: Option<&'a [u8]>,
}

impl<'a> Request<'a> {
    /// A request without a body.
    pub fn new(method: &'a str, uri: &'a str) -> Self {
        Request {
            method,
            uri,
            body: None,
        }
    }

    /// The same request with a body.
    pub fn with_body(mut self, body: Option<&'a [u8]>) -> Self {
        self.body = body;
        self
    }
}

impl Challenge {
    /// Parses one `WWW-Authenticate` value (`Digest realm="…", nonce="…", …`; the scheme is
    /// case-insensitive, unknown parameters are ignored).
    pub fn parse(value: &str) -> Result<Challenge, DigestError> {
        let value = value.trim();
        let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("digest") {
            return Err(DigestError::NotDigest);
        }
        let mut c = Challenge {
            realm: String::new(),
            nonce: String::new(),
            opaque: None,
            algorithm: Algorithm::Md5,
            qop: Vec::new(),
            stale: false,
            userhash: false,
        };
        let (mut realm, mut nonce, mut qop_given) = (None, None, None);
        for (name, v) in params(rest)? {
            match name.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(v),
                "nonce" => nonce = Some(v),
                "opaque" => c.opaque = Some(v),
                "algorithm" => {
                    c.algorithm = Algorithm::from_token(&v).ok_or(DigestError::UnsupportedAlgorithm(v))?;
                }
                "qop" => {
                    c.qop = v
                        .split(',')
                        .filter_map(|q| match q.trim().to_ascii_lowercase().as_str() {
                            "auth" => Some(Qop::Auth),
                            "auth-int" => Some(Qop::AuthInt),
                            _ => None,
                        })
                        .collect();
                    qop_given = Some(v);
                }
                "stale" => c.stale = v.eq_ignore_ascii_case("true"),
                "userhash" => c.userhash = v.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        c.realm = realm.ok_or(DigestError::Missing("realm"))?;
        c.nonce = nonce.ok_or(DigestError::Missing("nonce"))?;
        if c.nonce.is_empty() {
            return Err(DigestError::Missing("nonce"));
        }
        match qop_given {
            Some(q) if c.qop.is_empty() => return Err(DigestError::UnsupportedQop(q)),
            None if c.algorithm.is_session() => {
                return Err(DigestError::UnsupportedQop(format!(
                    "none with {}",
                    c.algorithm.as_str()
                )));
            }
            _ => {}
        }
        Ok(c)
    }

    /// The `qop` an answer uses: `auth-int` when offered (it also protects the body), else `auth`,
    /// `None` for an RFC 2069 challenge.
    pub fn chosen_qop(&self) -> Option<Qop> {
        [Qop::AuthInt, Qop::Auth].into_iter().find(|q| self.qop.contains(q))
    }

    /// The `response` value (RFC 7616 §3.4.1): `KD(H(A1), nonce:nc:cnonce:qop:H(A2))`, or
    /// `KD(H(A1), nonce:H(A2))` without `qop`.
    pub fn response(&self, username: &str, password: &str, request: &Request<'_>, nc: u32, cnonce: &str) -> String {
        let alg = self.algorithm;
        let mut ha1 = alg.hex(format!("{username}:{}:{password}", self.realm).as_bytes());
        if alg.is_session() {
            ha1 = alg.hex(format!("{ha1}:{}:{cnonce}", self.nonce).as_bytes());
        }
        let qop = self.chosen_qop();
        let a2 = match qop {
            Some(Qop::AuthInt) => format!(
                "{}:{}:{}",
                request.method,
                request.uri,
                alg.hex(request.body.unwrap_or_default())
            ),
            _ => format!("{}:{}", request.method, request.uri),
        };
        let ha2 = alg.hex(a2.as_bytes());
        let data = match qop {
            Some(q) => format!("{}:{nc:08x}:{cnonce}:{}:{ha2}", self.nonce, q.as_str()),
            None => format!("{}:{ha2}", self.nonce),
        };
        alg.hex(format!("{ha1}:{data}").as_bytes())
    }

    /// The whole `Authorization` value answering this challenge for one request. `nc` is the nonce
    /// count (1 for the first answer to this nonce), `cnonce` a fresh client nonce ([`cnonce`]).
    pub fn authorization(
        &self,
        username: &str,
        password: &str,
        request: &Request<'_>,
        nc: u32,
        cnonce: &str,
    ) -> String {
        let response = self.response(username, password, request, nc, cnonce);
        let mut out = String::from("Digest ");
        if self.userhash {
            let hashed = self.algorithm.hex(format!("{username}:{}", self.realm).as_bytes());
            out.push_str(&format!("username=\"{hashed}\""));
        } else if username.chars().all(|ch| (' '..='~').contains(&ch)) {
            out.push_str(&format!("username={}", quote(username)));
        } else {
            let encoded = percent_encoding::utf8_percent_encode(username, ATTR_CHAR);
            out.push_str(&format!("username*=UTF-8''{encoded}"));
        }
        out.push_str(&format!(
            ", realm={}, uri={}, algorithm={}, nonce={}",
            quote(&self.realm),
            quote(request.uri),
            self.algorithm.as_str(),
            quote(&self.nonce)
        ));
        if let Some(q) = self.chosen_qop() {
            out.push_str(&format!(", nc={nc:08x}, cnonce={}, qop={}", quote(cnonce), q.as_str()));
        }
        out.push_str(&format!(", response=\"{response}\""));
        if let Some(o) = &self.opaque {
            out.push_str(&format!(", opaque={}", quote(o)));
        }
        if self.userhash {
            out.push_str(", userhash=true");
        }
        out
    }
}

/// A fresh client nonce: 128 random bits in hex.
pub fn cnonce() -> String {
    format!("{:032x}", crate::random::u128())
}

/// RFC 5987 `attr-char`: everything else in an `ext-value` is percent-encoded.
const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// A quoted string (RFC 9110 §5.6.4): `"` and `\` escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// The `name=value` pairs of a challenge, values unquoted.
fn params(mut s: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches([' ', '\t', ',']);
        if s.is_empty() {
            return Ok(out);
        }
        let (name, rest) = s.split_once('=').ok_or(DigestError::Malformed)?;
        let name = name.trim();
        if name.is_empty() || name.contains([' ', '\t', ',', '"']) {
            return Err(DigestError::Malformed);
        }
        let rest = rest.trim_start_matches([' ', '\t']);
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, ch)) = chars.next() {
                match ch {
                    '\\' => v.push(chars.next().ok_or(DigestError::Malformed)?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => v.push(ch),
                }
            }
            let end = end.ok_or(DigestError::Malformed)?;
            value = v;
            s = &q[end..];
            let after = s.trim_start_matches([' ', '\t']);
            if !(after.is_empty() || after.starts_with(',')) {
                return Err(DigestError::Malformed);
            }
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            if value.is_empty() || value.contains([' ', '\t', '"']) {
                return Err(DigestError::Malformed);
            }
            s = &rest[end..];
        }
        out.push((name.to_owned(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request<'_> {
        Request::new("GET", uri)
    }

    /// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
    #[test]
    fn rfc_7616_section_3_9_1() {
        for (alg, want) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let c = Challenge::parse(&format!(
                r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg},
                   nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
            ))
            .unwrap();
            let mut c = c;
            // The RFC's answer uses qop=auth although auth-int is offered too.
            c.qop = vec![Qop::Auth];
            let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
            let h = c.authorization("Mufasa", "Circle of Life", &get("/dir/index.html"), 1, cnonce);
            assert!(h.contains(&format!("response=\"{want}\"")), "{alg}: {h}");
            assert!(h.contains("nc=00000001") && h.contains("qop=auth,"), "{h}");
            assert!(
                h.contains(r#"opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#),
                "{h}"
            );
        }
    }

    /// RFC 2617 §3.5 (the password there is "Circle Of Life").
    #[test]
    fn rfc_2617_section_3_5() {
        let c = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert_eq!(c.chosen_qop(), Some(Qop::AuthInt));
        let mut c = c;
        c.qop = vec![Qop::Auth];
        let r = c.response("Mufasa", "Circle Of Life", &get("/dir/index.html"), 1, "0a4f113b");
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    /// Vectors computed with Python's hashlib from the RFC 7616 §3.4 formulas, independently of this
    /// module: RFC 2069 (no qop), MD5-sess, auth-int over a body, SHA-512-256 with userhash and a
    /// non-ASCII name (the inputs of RFC 7616 §3.9.2, whose printed outputs erratum 4897 disputes).
    #[test]
    fn independently_computed_vectors() {
        let rfc2069 =
            Challenge::parse(r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#)
                .unwrap();
        assert_eq!(rfc2069.chosen_qop(), None);
        assert_eq!(
            rfc2069.response("Mufasa", "Circle Of Life", &get("/dir/index.html"), 1, "x"),
            "670fd8c2df070c60b045671b8b24ff02"
        );
        let h = rfc2069.authorization("Mufasa", "Circle Of Life", &get("/dir/index.html"), 1, "x");
        assert!(!h.contains("nc=") && !h.contains("cnonce") && !h.contains("qop"), "{h}");

        let sess = Challenge::parse(r#"Digest realm="r", nonce="n", qop=auth, algorithm=MD5-sess"#).unwrap();
        assert_eq!(
            sess.response("u", "p", &get("/a"), 2, "c"),
            "020bf6ebf036ff316453a4168320d453"
        );

        let int = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int", algorithm=SHA-256"#).unwrap();
        let post = Request::new("POST", "/api/send_sms").with_body(Some(br#"{"text":"hi"}"#));
        assert_eq!(
            int.response("u", "p", &post, 1, "c"),
            "fe1d34f35f80fea27b0235417689c5c28ecab594d04ce683445e09315b94edd2"
        );

        let c = Challenge::parse(
            r#"Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256,
               nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
               opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true"#,
        )
        .unwrap();
        let h = c.authorization(
            "J\u{e4}s\u{f8}n Doe",
            "Secret, or not?",
            &get("/doe.json"),
            1,
            "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        );
        assert!(
            h.starts_with(r#"Digest username="793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b""#),
            "{h}"
        );
        assert!(
            h.contains(r#"response="3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5""#),
            "{h}"
        );
        assert!(h.ends_with(", userhash=true"), "{h}");
    }

    #[test]
    fn a_name_a_quoted_string_cannot_carry_goes_out_as_username_star() {
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", qop=auth"#).unwrap();
        let h = c.authorization("J\u{e4}s\u{f8}n Doe", "p", &get("/"), 1, "c");
        assert!(h.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, "), "{h}");
        let h = c.authorization(r#"a"b\c"#, "p", &get("/"), 1, "c");
        assert!(h.starts_with(r#"Digest username="a\"b\\c", "#), "{h}");
    }

    #[test]
    fn parsing() {
        let c = Challenge::parse(
            r#"digest Realm="a \"q\" realm",NONCE=abc ,  qop="auth-int, auth, future", stale=TRUE, algorithm=sha-256"#,
        )
        .unwrap();
        assert_eq!(c.realm, r#"a "q" realm"#);
        assert_eq!(c.nonce, "abc");
        assert_eq!(c.qop, vec![Qop::AuthInt, Qop::Auth]);
        assert!(c.stale && !c.userhash);
        assert_eq!(c.algorithm, Algorithm::Sha256);
        assert_eq!(c.opaque, None);

        assert_eq!(Challenge::parse(r#"Basic realm="x""#), Err(DigestError::NotDigest));
        assert_eq!(Challenge::parse(""), Err(DigestError::NotDigest));
        assert_eq!(
            Challenge::parse(r#"Digest nonce="n""#),
            Err(DigestError::Missing("realm"))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r""#),
            Err(DigestError::Missing("nonce"))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", nonce="""#),
            Err(DigestError::Missing("nonce"))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-1"#),
            Err(DigestError::UnsupportedAlgorithm("SHA-1".into()))
        );
        assert!(matches!(
            Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-conf""#),
            Err(DigestError::UnsupportedQop(_))
        ));
        assert!(matches!(
            Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=MD5-sess"#),
            Err(DigestError::UnsupportedQop(_))
        ));
        for bad in [
            r#"Digest realm="r, nonce=n"#,
            r#"Digest realm"#,
            r#"Digest realm="r"x, nonce=n"#,
            r#"Digest realm=a b, nonce=n"#,
            r#"Digest realm="r\"#,
        ] {
            assert_eq!(Challenge::parse(bad), Err(DigestError::Malformed), "{bad}");
        }
    }

    #[test]
    fn client_nonces_are_fresh() {
        let (a, b) = (cnonce(), cnonce());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
