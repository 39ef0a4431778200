//! Service-account OAuth: the RS256 JWT assertion and the cached access token.
//!
//! The assertion is the one Google's own auth libraries make (google-auth for Python, google-auth-
//! library for Node): header `{"alg":"RS256","typ":"JWT","kid":<private_key_id>}`, claims `iss` (the
//! account's email), `scope`, `aud` (the token URI), `iat` and `exp = iat + 3600`. There is no `sub`:
//! Google's libraries add one only for domain-wide delegation, which FCM does not use.
//!
//! It is exchanged at the token URI with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
//! through core's request pipeline like every other call ([`TokenEndpoint`] is its `Api`; errors map
//! in [`parse_token_error`]). The access token is kept in core's
//! [`TokenCache`] until shortly before it expires, and refreshed by one task while the others wait for
//! it ([`TokenSource::token`]), so a burst of sends makes one token request.
//!
//! Why RS256 is done with `ring` directly: rustls already uses it for TLS (see `switchboard_core::http`),
//! so signing adds no crate to the build, and its RSA is constant-time. `jsonwebtoken`
//! would need a crypto backend feature on top (and the `rsa` crate, the pure-Rust choice, still
//! carries the unfixed Marvin timing advisory, RUSTSEC-2023-0071). A JWT is two base64url JSON
//! objects and a signature; that part is twenty lines here.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::{Deserialize, Serialize};
use switchboard_core::clock::TokioClock;
use switchboard_core::http::{HttpOptions, Reply};
use switchboard_core::pipeline::{Api, Authorized, Pipeline};
use switchboard_core::token::{AccessToken, Grant, TokenCache};
use switchboard_core::{Dispatch, Error, ExposeSecret, Idempotence, Result, RetryPolicy, SecretString};

use crate::SCHEME;
use crate::config::ServiceAccount;
use crate::error::parse_token_error;
use crate::model::TokenResponse;

/// The OAuth grant type of a JWT bearer assertion (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The longest assertion lifetime Google accepts, and the one its libraries use.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);

/// A token is refreshed this long before it expires (google-auth-library uses five minutes too), or
/// at half its life when it lives shorter than twice this.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// How long a token that lives `lifetime` is used before it is refreshed: until [`REFRESH_MARGIN`]
/// before its end, or half its life if it is short. Counted from when the request was made, so the
/// time the answer took is on the safe side.
pub fn refresh_after(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2))
}

/// The JWT header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtHeader {
    /// `RS256`.
    pub alg: String,
    /// `JWT`.
    pub typ: String,
    /// The service account's `private_key_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// The JWT claims of a service-account assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtClaims {
    /// The service account's email.
    pub iss: String,
    /// Space-separated OAuth scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The token URI.
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// The user to impersonate (domain-wide delegation only; never set for FCM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

impl JwtClaims {
    /// The claims Google's libraries make for `account` at `now` (Unix seconds).
    pub fn for_account(account: &ServiceAccount, scope: &str, now: i64) -> Self {
        JwtClaims {
            iss: account.client_email.clone(),
            scope: Some(scope.to_owned()),
            aud: account.token_uri.clone(),
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs() as i64,
            sub: None,
        }
    }
}

/// An RSA signing key parsed from a service account's PEM.
pub struct SigningKey {
    key: RsaKeyPair,
    kid: Option<String>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses the account's `private_key` (PKCS#8 `BEGIN PRIVATE KEY`, or PKCS#1 `BEGIN RSA PRIVATE
    /// KEY`). Errors never quote the key.
    pub fn from_service_account(account: &ServiceAccount) -> Result<Self> {
        let bad = || {
            Error::config("the service account's private_key is not an RSA private key in PEM form")
                .with_provider(SCHEME)
        };
        let pem = account.private_key.expose_secret();
        let (label, der) = pem_decode(pem).ok_or_else(bad)?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            _ => return Err(bad()),
        }
        .map_err(|_| bad())?;
        Ok(SigningKey {
            key,
            kid: account.private_key_id.clone().filter(|k| !k.is_empty()),
        })
    }

    /// Signs `claims` into a compact JWT.
    pub fn sign(&self, claims: &JwtClaims) -> Result<SecretString> {
        let header = JwtHeader {
            alg: "RS256".into(),
            typ: "JWT".into(),
            kid: self.kid.clone(),
        };
        let input = format!("{}.{}", b64_json(&header)?, b64_json(claims)?);
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .map_err(|_| {
                Error::config("the service account's key could not sign the assertion").with_provider(SCHEME)
            })?;
        Ok(SecretString::from(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))))
    }
}

/// base64url (no padding) of a value's JSON.
fn b64_json<T: Serialize>(v: &T) -> Result<String> {
    let json = serde_json::to_vec(v).map_err(|e| Error::config("the JWT could not be serialised").with_source(e))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes the first PEM block: its label and DER bytes.
pub fn pem_decode(pem: &str) -> Option<(String, Vec<u8>)> {
    let start = pem.find("-----BEGIN ")?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = rest.find(&end_marker)?;
    let body: String = rest
        .get(body_start..body_end)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body).ok()?;
    Some((label, der))
}

/// Encodes DER bytes as PEM with 64-character lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Google's OAuth token endpoint as the request pipeline sees it. The request carries its credential
/// (the signed assertion) in its form, so there is nothing to add to it.
#[derive(Debug)]
pub struct TokenEndpoint;

#[switchboard_core::async_trait]
impl Api for TokenEndpoint {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(request))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        parse_token_error(reply)
    }
}

/// Hands out access tokens for one service account, cached and refreshed by one task at a time.
pub struct TokenSource {
    account: ServiceAccount,
    key: SigningKey,
    scope: String,
    endpoint: Pipeline<TokenEndpoint>,
    cache: TokenCache,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("client_email", &self.account.client_email)
            .field(
                "token_uri",
                &switchboard_core::secret::redact_url(&self.account.token_uri),
            )
            .field("scope", &self.scope)
            .field("cache", &self.cache.state())
            .finish()
    }
}

impl TokenSource {
    /// A source for `account` asking for `scope`.
    pub fn new(account: ServiceAccount, scope: &str, http: &HttpOptions, retry: RetryPolicy) -> Result<Arc<Self>> {
        let key = SigningKey::from_service_account(&account)?;
        Ok(Arc::new(TokenSource {
            account,
            key,
            scope: scope.to_owned(),
            endpoint: Pipeline::new(TokenEndpoint, http, retry)?,
            cache: TokenCache::new(Arc::new(TokioClock), REFRESH_MARGIN),
        }))
    }

    /// A valid access token: the cached one, or a new one. When many tasks find the cache stale at
    /// once, one of them asks Google and the rest share its answer (core's [`TokenCache`]).
    ///
    /// Errors are `NotSent`: whatever happened to the token request, no message went out.
    pub async fn token(&self) -> Result<SecretString> {
        Ok(self.access().await?.secret)
    }

    /// Like [`TokenSource::token`], with the generation to name in [`TokenSource::invalidate`].
    pub async fn access(&self) -> Result<AccessToken> {
        self.cache
            .get(|_| async {
                let answer = self.fetch().await.map_err(|e| e.with_dispatch(Dispatch::NotSent))?;
                Ok(Grant {
                    access_token: answer.access_token,
                    refresh_token: None,
                    expires_in: Duration::from_secs(answer.expires_in.unwrap_or(3599)),
                })
            })
            .await
    }

    /// Forgets the token of `generation` if it is still the cached one (FCM refused it), so the next
    /// call fetches anew; a newer token another task already fetched is kept.
    pub fn invalidate(&self, generation: u64) {
        self.cache.invalidate(generation);
    }

    /// The signed assertion for now.
    pub fn assertion(&self) -> Result<SecretString> {
        let claims = JwtClaims::for_account(&self.account, &self.scope, chrono::Utc::now().timestamp());
        self.key.sign(&claims)
    }

    /// One token request (retried by the pipeline on any temporary failure: asking again for a token
    /// changes nothing at Google).
    async fn fetch(&self) -> Result<TokenResponse> {
        let assertion = self.assertion()?;
        let form = [
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", assertion.expose_secret()),
        ];
        let t: TokenResponse = self
            .endpoint
            .json(Idempotence::Idempotent, |http| {
                http.post(&self.account.token_uri).form(&form)
            })
            .await?;
        if t.access_token.expose_secret().is_empty() {
            return Err(Error::decode("the OAuth token answer has an empty access_token").with_provider(SCHEME));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
    use switchboard_core::ErrorKind;

    #[test]
    fn refresh_schedule() {
        assert_eq!(refresh_after(Duration::from_secs(3599)), Duration::from_secs(3299));
        assert_eq!(refresh_after(Duration::from_secs(10)), Duration::from_secs(5));
        assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn pem_round_trip() {
        let der = (0u8..200).collect::<Vec<_>>();
        let pem = pem_encode("PRIVATE KEY", &der);
        assert!(pem.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        assert_eq!(pem_decode(&pem), Some(("PRIVATE KEY".into(), der)));
        assert_eq!(pem_decode("-----BEGIN X-----\n!!!\n-----END X-----"), None);
        assert_eq!(pem_decode("no pem"), None);
    }

    #[test]
    fn a_signed_assertion_verifies_with_the_public_key() {
        // The key is made and the signature checked by aws-lc-rs, the signing is ring's.
        let kp = aws_lc_rs::signature::RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let pem = pem_encode("PRIVATE KEY", kp.as_der().unwrap().as_ref());
        let sa = ServiceAccount::from_json(
            &serde_json::json!({"type":"service_account","private_key_id":"kid-1","private_key":pem,
                "client_email":"a@p.iam.gserviceaccount.com"})
            .to_string(),
        )
        .unwrap();
        let key = SigningKey::from_service_account(&sa).unwrap();
        let claims = JwtClaims::for_account(&sa, crate::config::FCM_SCOPE, 1_700_000_000);
        let jwt = key.sign(&claims).unwrap();
        let parts: Vec<&str> = jwt.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"alg":"RS256","typ":"JWT","kid":"kid-1"}));
        let c: JwtClaims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(c.exp - c.iat, 3600);
        assert_eq!(c.aud, "https://oauth2.googleapis.com/token");
        assert!(c.sub.is_none());
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, kp.public_key().as_ref());
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_bad_key_is_a_config_error_that_does_not_echo_it() {
        let sa = ServiceAccount::from_json(
            &serde_json::json!({"private_key":"-----BEGIN PRIVATE KEY-----\nQUJDREVG\n-----END PRIVATE KEY-----",
                "client_email":"a@b.c"})
            .to_string(),
        )
        .unwrap();
        let e = SigningKey::from_service_account(&sa).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(!e.to_string().contains("QUJD"));
    }
}
