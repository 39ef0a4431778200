//! Google's OAuth 2.0 token endpoint for service accounts (`POST /token`), as Google documents it
//! ("Using OAuth 2.0 for Server to Server Applications",
//! <https://developers.google.com/identity/protocols/oauth2/service-account>): the JWT bearer grant,
//! with the assertion verified — RS256 signature with the account's public key, `kid`, `iss` (a
//! known account), `aud` (this token URI), `scope`, `iat`/`exp` (at most 60 minutes, not in the future
//! beyond the clock skew, not expired). Bad assertions get OAuth errors; good ones an access token.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use switchboard_core::MessageId;
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::SIM_KEY_ID;
use super::state::{Inner, Issued, State};
use crate::auth::{JWT_BEARER_GRANT, JwtClaims, JwtHeader, pem_encode};

/// Allowed clock skew on `iat` (Google's exact figure is not published; five minutes is common).
const CLOCK_SKEW_SECS: i64 = 300;

/// A throwaway RSA key: the private half for the key file, the public half to verify assertions.
pub(super) struct SimKey {
    pub(super) pkcs8_pem: String,
    public_der: Vec<u8>,
}

fn make_key() -> SimKey {
    // A failure here means the crypto library itself is broken; there is nothing to fall back to.
    #[allow(clippy::expect_used)]
    let kp = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation failed");
    #[allow(clippy::expect_used)]
    let der = kp.as_der().expect("RSA key export failed");
    SimKey {
        pkcs8_pem: pem_encode("PRIVATE KEY", der.as_ref()),
        public_der: kp.public_key().as_ref().to_vec(),
    }
}

/// The account's key, made once per process (RSA key generation is slow in debug builds).
pub(super) fn sim_key() -> &'static SimKey {
    static KEY: OnceLock<SimKey> = OnceLock::new();
    KEY.get_or_init(make_key)
}

/// Another key, for "signed with the wrong key" cases.
pub(super) fn other_key() -> &'static SimKey {
    static KEY: OnceLock<SimKey> = OnceLock::new();
    KEY.get_or_init(make_key)
}

fn oauth_error(status: u16, error: &str, description: &str) -> ResponseTemplate {
    json_status(status, &json!({"error": error, "error_description": description}))
}

/// `POST /token`: the JWT bearer grant, verified (see the module docs).
pub(super) fn token_endpoint(inner: &Inner, req: &Request) -> ResponseTemplate {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
    let mut s = inner.lock();
    s.token_requests += 1;
    match form.get("grant_type").map(String::as_str) {
        Some(JWT_BEARER_GRANT) => {}
        Some(other) => return oauth_error(400, "unsupported_grant_type", &format!("Invalid grant_type: {other}")),
        None => return oauth_error(400, "invalid_request", "Missing required parameter: grant_type"),
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error(400, "invalid_request", "Missing required parameter: assertion");
    };
    let claims = match verify_assertion(&s, assertion) {
        Ok(c) => c,
        Err((code, desc)) => return oauth_error(400, code, desc),
    };
    let token = format!("ya29.c.sim{}{}", MessageId::random(), inner.next());
    let scopes: Vec<String> = claims
        .scope
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let lifetime = s.token_lifetime;
    s.tokens.insert(
        token.clone(),
        Issued {
            expires: Instant::now() + Duration::from_secs(lifetime),
            scopes,
        },
    );
    s.assertions.push(claims);
    json_status(
        200,
        &json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}),
    )
}

const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. \
                           Check your iat and exp values in the JWT claim.";

/// Verifies a JWT bearer assertion as Google's token endpoint does. The error texts follow Google's
/// where they are known; Google does not document the exact wording.
fn verify_assertion(s: &State, jwt: &str) -> Result<JwtClaims, (&'static str, &'static str)> {
    let malformed = ("invalid_grant", "Invalid JWT: the assertion is not a signed JWT.");
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed);
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok();
    let header: JwtHeader = decode(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(malformed)?;
    let claims: JwtClaims = decode(c)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(malformed)?;
    let sig = decode(sig).ok_or(malformed)?;
    if header.alg != "RS256" {
        return Err(("invalid_grant", "Invalid JWT: only RS256 is accepted."));
    }
    if claims.iss != s.client_email {
        return Err(("invalid_grant", "Invalid grant: account not found"));
    }
    if header.kid.as_deref().is_some_and(|k| k != SIM_KEY_ID) {
        return Err(("invalid_grant", "Invalid JWT Signature."));
    }
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &sim_key().public_der);
    let signed = format!("{h}.{c}");
    if public.verify(signed.as_bytes(), &sig).is_err() {
        return Err(("invalid_grant", "Invalid JWT Signature."));
    }
    if claims.aud != s.token_uri {
        return Err(("invalid_grant", "Invalid JWT: Failed audience check."));
    }
    let now = chrono::Utc::now().timestamp();
    if claims.exp <= claims.iat
        || claims.exp - claims.iat > 3600
        || claims.iat > now + CLOCK_SKEW_SECS
        || claims.exp <= now
    {
        return Err(("invalid_grant", SHORT_LIVED));
    }
    if claims.scope.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(("invalid_scope", "Invalid OAuth scope or ID token audience provided."));
    }
    Ok(claims)
}
