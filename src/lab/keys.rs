//! The lab's service-account signing key: RSA 2048, with the key id kube-apiserver derives
//! (`base64url(sha256(DER SubjectPublicKeyInfo))`, pkg/serviceaccount/jwt.go `keyIDFromPublicKey`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::LabError;

pub struct SigningKey {
    kid: String,
    jwk: Value,
    encoding: jsonwebtoken::EncodingKey,
}

impl SigningKey {
    /// A fresh key for this run of the lab.
    pub fn generate() -> Result<SigningKey, LabError> {
        let private = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| LabError::Key(e.to_string()))?;
        Self::from_private(&private)
    }

    fn from_private(private: &RsaPrivateKey) -> Result<SigningKey, LabError> {
        let public = RsaPublicKey::from(private);
        let der = public
            .to_public_key_der()
            .map_err(|e| LabError::Key(e.to_string()))?;
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_bytes()));
        let jwk = json!({
            "use": "sig",
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        });
        let der = private
            .to_pkcs1_der()
            .map_err(|e| LabError::Key(e.to_string()))?;
        let encoding = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
        Ok(SigningKey { kid, jwk, encoding })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK as the issuer's `jwks_uri` serves it.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// Verifies an RS256 signature made by this key (claims are judged by the caller).
    pub fn verify(&self, jwt: &str) -> Result<(), LabError> {
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(self.jwk.clone()).map_err(|e| LabError::Key(e.to_string()))?;
        let key =
            jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| LabError::Key(e.to_string()))?;
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(jwt, &key, &v)
            .map(|_| ())
            .map_err(|e| LabError::Key(e.to_string()))
    }

    /// An RS256 JWT with header `{"alg":"RS256","kid":…}` (no `typ`, as go-jose writes it).
    pub fn sign(&self, claims: &Value) -> Result<String, LabError> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = None;
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| LabError::Key(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_against_the_published_jwk_and_kid() {
        let key = SigningKey::generate().unwrap();
        let token = key
            .sign(
                &json!({"sub": "system:serviceaccount:a:b", "exp": 4_000_000_000u64, "aud": ["x"]}),
            )
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(header.typ, None);
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk().clone()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&["x"]);
        let data = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["sub"], "system:serviceaccount:a:b");
        assert_eq!(key.kid().len(), 43, "base64url of a SHA-256 digest");
    }
}
