//! Bearer tokens on the lab's services: the header, and the checks every Azure data plane
//! makes on an Entra access token (signed by the lab's Entra, for this audience, not expired).
//! Each service words its own rejection.

use axum::http::HeaderMap;
use serde_json::Value;

use super::keys::SigningKey;

/// The token of an `Authorization: Bearer` header.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    Missing,
    Signature,
    Malformed,
    Audience,
    Expired,
}

/// The access token's claims, if the lab's Entra issued it for `audience` and it is current.
pub fn access_claims(
    entra_key: &SigningKey,
    headers: &HeaderMap,
    audience: &str,
) -> Result<Value, Rejected> {
    let token = token(headers).ok_or(Rejected::Missing)?;
    entra_key.verify(token).map_err(|_| Rejected::Signature)?;
    let claims: Value =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| Rejected::Malformed)?;
    if claims["aud"].as_str().map(|a| a.trim_end_matches('/')) != Some(audience) {
        return Err(Rejected::Audience);
    }
    if claims["exp"]
        .as_i64()
        .is_none_or(|e| e <= jiff::Timestamp::now().as_second())
    {
        return Err(Rejected::Expired);
    }
    Ok(claims)
}
