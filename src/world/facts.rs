//! Facts captured from the network: the issuer's documents and the pods' projected tokens.
//! A captured token keeps its header and claims only; the signature is never stored.

use serde::{Deserialize, Serialize};

use super::ObjRef;

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub issuers: Vec<IssuerCapture>,
    pub tokens: Vec<CapturedToken>,
    pub exchanges: Vec<super::live::ExchangeRecord>,
    pub probes: Vec<super::live::ProbeRecord>,
    pub gaps: Vec<super::live::Gap>,
}

/// `kind: IssuerDiscovery`: what `{issuer}/.well-known/openid-configuration` and its
/// `jwks_uri` returned, or why they could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerCapture {
    /// The issuer URL that was fetched (a token's `iss`).
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// Set when the discovery document or JWKS could not be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryDocument {
    pub issuer: String,
    pub jwks_uri: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_token_signing_alg_values_supported: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// Public key metadata; `n`/`e` are kept only so a later run can verify signatures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Jwk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

/// `kind: CapturedToken`: the projected token a pod presents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturedToken {
    pub pod: ObjRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// How it was obtained: `token-request`, `exec`, `in-pod`, `file`.
    pub source: String,
    pub header: TokenHeader,
    pub claims: TokenClaims,
    /// The signature checked against the issuer's JWKS when the token was taken live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum SignatureCheck {
    Verified,
    Invalid { reason: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenHeader {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    pub sub: String,
    /// Always a list, as the API server writes it.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(
        default,
        rename = "kubernetes.io",
        skip_serializing_if = "Option::is_none"
    )]
    pub kubernetes: Option<serde_json::Value>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Header and claims of a compact JWT, without verifying it and without keeping the signature.
pub fn decode_unverified(jwt: &str) -> Result<(TokenHeader, TokenClaims), String> {
    let jwt = jwt.trim();
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| format!("not a JWT: {e}"))?;
    let claims: TokenClaims = jsonwebtoken::dangerous::insecure_decode_claims(jwt)
        .map_err(|e| format!("JWT claims unreadable: {e}"))?;
    let header = TokenHeader {
        alg: format!("{:?}", header.alg),
        kid: header.kid,
    };
    Ok((header, claims))
}
