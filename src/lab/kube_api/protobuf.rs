//! The little protobuf kubectl sends for `create token` and `auth can-i`: the `k8s\0` envelope
//! around a TokenRequest (audiences, expirationSeconds, boundObjectRef) or a self-subject review
//! (its spec's resource attributes, or namespace). Read by hand; only these fields.

use super::proto_json::{Wire, enveloped, wire};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct TokenSpec {
    pub audiences: Vec<String>,
    pub expiration_seconds: Option<i64>,
    pub bound_kind: Option<String>,
    pub bound_name: Option<String>,
    pub bound_uid: Option<String>,
}

fn text(b: &[u8]) -> Option<String> {
    String::from_utf8(b.to_vec()).ok()
}

/// The bytes of field `n` of a message.
fn field(message: &[u8], n: u64) -> Option<&[u8]> {
    wire(message)?.into_iter().find_map(|(m, f)| match f {
        Wire::Bytes(b) if m == n => Some(b),
        _ => None,
    })
}

/// A protobuf SelfSubjectAccessReview as its JSON form: `spec.resourceAttributes` (namespace,
/// verb, group, version, resource, subresource, name: fields 1-7).
pub fn access_review(body: &[u8]) -> Option<serde_json::Value> {
    let attrs = field(field(enveloped(body)?, 2)?, 1).unwrap_or_default();
    let mut out = serde_json::Map::new();
    let names = [
        "namespace",
        "verb",
        "group",
        "version",
        "resource",
        "subresource",
        "name",
    ];
    for (n, f) in wire(attrs)? {
        if let (Wire::Bytes(b), Some(name)) =
            (f, names.get(usize::try_from(n).ok()?.checked_sub(1)?))
        {
            out.insert((*name).into(), serde_json::Value::String(text(b)?));
        }
    }
    Some(serde_json::json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": out},
    }))
}

/// A protobuf SelfSubjectRulesReview as its JSON form: `spec.namespace` (field 1 of the spec).
pub fn rules_review(body: &[u8]) -> Option<serde_json::Value> {
    let spec = field(enveloped(body)?, 2).unwrap_or_default();
    let namespace = field(spec, 1).and_then(text).unwrap_or_default();
    Some(serde_json::json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace},
    }))
}

/// Parses a protobuf TokenRequest body; `None` when it is not one.
pub fn token_request(body: &[u8]) -> Option<TokenSpec> {
    // A body that is not protobuf is not a TokenRequest; one with no spec asks for defaults.
    let spec = wire(enveloped(body)?)?
        .into_iter()
        .find_map(|(n, f)| match (n, f) {
            (2, Wire::Bytes(b)) => Some(b),
            _ => None,
        });
    let mut out = TokenSpec::default();
    for (n, f) in spec.map(wire).unwrap_or(Some(Vec::new()))? {
        match (n, f) {
            (1, Wire::Bytes(b)) => out.audiences.push(text(b)?),
            (4, Wire::Varint(v)) => out.expiration_seconds = i64::try_from(v).ok(),
            (3, Wire::Bytes(b)) => {
                for (m, g) in wire(b)? {
                    if let Wire::Bytes(s) = g {
                        match m {
                            1 => out.bound_kind = text(s),
                            3 => out.bound_name = text(s),
                            4 => out.bound_uid = text(s),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bytes_kubectl_sends() {
        // As captured from kubectl 1.32 `create token sa --audience api://AzureADTokenExchange --duration 1h`.
        let mut spec = vec![0x0a, 26];
        spec.extend_from_slice(b"api://AzureADTokenExchange");
        spec.extend_from_slice(&[0x20, 0x90, 0x1c]);
        let mut tr = vec![0x0a, 0x00, 0x12, spec.len() as u8];
        tr.extend_from_slice(&spec);
        let mut unknown = vec![0x0a, 40, 0x0a, 24];
        unknown.extend_from_slice(b"authentication.k8s.io/v1");
        unknown.extend_from_slice(&[0x12, 12]);
        unknown.extend_from_slice(b"TokenRequest");
        unknown.extend_from_slice(&[0x12, tr.len() as u8]);
        unknown.extend_from_slice(&tr);
        let mut body = b"k8s\0".to_vec();
        body.extend_from_slice(&unknown);
        let spec = token_request(&body).unwrap();
        assert_eq!(spec.audiences, ["api://AzureADTokenExchange"]);
        assert_eq!(spec.expiration_seconds, Some(3600));
        assert_eq!(token_request(b"{\"json\": true}"), None);
    }
}
