//! The issuer as Entra reads it: `{iss}/.well-known/openid-configuration`, then its `jwks_uri`,
//! and the token's signature checked against the published key.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::net::http::Http;
use crate::world::facts::{DiscoveryDocument, IssuerCapture, Jwks, SignatureCheck};

pub async fn fetch(http: &Http, issuer: &str) -> IssuerCapture {
    let mut cap = IssuerCapture {
        issuer: issuer.to_string(),
        ..Default::default()
    };
    // Entra appends the well-known path to the issuer without doubling a trailing slash.
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery = match http.get("issuer discovery", &url, None).await {
        Ok(r) if r.ok() => serde_json::from_slice::<DiscoveryDocument>(&r.body)
            .map_err(|e| format!("{url}: not a discovery document: {e}")),
        Ok(r) => Err(format!("{url}: HTTP {}", r.status)),
        Err(e) => Err(e.to_string()),
    };
    let discovery = match discovery {
        Ok(d) => d,
        Err(e) => {
            cap.error = Some(e);
            return cap;
        }
    };
    let jwks = match http.get("issuer JWKS", &discovery.jwks_uri, None).await {
        Ok(r) if r.ok() => serde_json::from_slice::<Jwks>(&r.body)
            .map_err(|e| format!("{}: not a JWKS: {e}", discovery.jwks_uri)),
        Ok(r) => Err(format!("{}: HTTP {}", discovery.jwks_uri, r.status)),
        Err(e) => Err(e.to_string()),
    };
    match jwks {
        Ok(j) => cap.jwks = Some(j),
        Err(e) => cap.error = Some(e),
    }
    cap.discovery = Some(discovery);
    cap
}

/// Verifies the signature only: lifetime, audience and issuer are judged by the analysis,
/// which explains them better than a rejection would.
pub fn verify(jwt: &str, cap: &IssuerCapture) -> Option<SignatureCheck> {
    let jwks = cap.jwks.as_ref()?;
    let header = jsonwebtoken::decode_header(jwt).ok()?;
    let key = jwks
        .keys
        .iter()
        .find(|k| k.kid.is_some() && k.kid == header.kid)?;
    let (Some(n), Some(e)) = (&key.n, &key.e) else {
        return Some(SignatureCheck::Invalid {
            reason: "the JWKS key has no RSA modulus/exponent".into(),
        });
    };
    let decoding = match DecodingKey::from_rsa_components(n, e) {
        Ok(k) => k,
        Err(err) => {
            return Some(SignatureCheck::Invalid {
                reason: format!("the JWKS key is unusable: {err}"),
            });
        }
    };
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    Some(
        match jsonwebtoken::decode::<serde_json::Value>(jwt, &decoding, &v) {
            Ok(_) => SignatureCheck::Verified,
            Err(e) => SignatureCheck::Invalid {
                reason: e.to_string(),
            },
        },
    )
}
