//! The little protobuf kubectl sends for `create token` and `auth can-i`: the `k8s\0` envelope
//! around a TokenRequest (audiences, expirationSeconds, boundObjectRef) or a self-subject review
//! (its spec's resource attributes, or namespace). Read by hand; only these fields.

#[derive(Debug, Default, PartialEq, Eq)]
pub struct TokenSpec {
    pub audiences: Vec<String>,
    pub expiration_seconds: Option<i64>,
    pub bound_kind: Option<String>,
    pub bound_name: Option<String>,
    pub bound_uid: Option<String>,
}

/// Fields of one message: (field number, varint value or bytes).
fn fields(mut b: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (key, rest) = varint(b)?;
        b = rest;
        match key & 7 {
            0 => {
                let (v, rest) = varint(b)?;
                out.push((key >> 3, Field::Varint(v)));
                b = rest;
            }
            2 => {
                let (len, rest) = varint(b)?;
                let len = usize::try_from(len).ok()?;
                let (bytes, rest) = (rest.get(..len)?, rest.get(len..)?);
                out.push((key >> 3, Field::Bytes(bytes)));
                b = rest;
            }
            _ => return None,
        }
    }
    Some(out)
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, &b[i + 1..]));
        }
    }
    None
}

fn text(b: &[u8]) -> Option<String> {
    String::from_utf8(b.to_vec()).ok()
}

/// The message inside the `k8s\0` envelope (`runtime.Unknown.raw`).
fn enveloped(body: &[u8]) -> Option<&[u8]> {
    let envelope = body.strip_prefix(b"k8s\0")?;
    fields(envelope)?
        .into_iter()
        .find_map(|(n, f)| match (n, f) {
            (2, Field::Bytes(b)) => Some(b),
            _ => None,
        })
}

/// The bytes of field `n` of a message.
fn field(message: &[u8], n: u64) -> Option<&[u8]> {
    fields(message)?.into_iter().find_map(|(m, f)| match f {
        Field::Bytes(b) if m == n => Some(b),
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
    for (n, f) in fields(attrs)? {
        if let (Field::Bytes(b), Some(name)) =
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
    let envelope = body.strip_prefix(b"k8s\0")?;
    let raw = fields(envelope)?
        .into_iter()
        .find_map(|(n, f)| match (n, f) {
            (2, Field::Bytes(b)) => Some(b),
            _ => None,
        })?;
    let spec = fields(raw)?.into_iter().find_map(|(n, f)| match (n, f) {
        (2, Field::Bytes(b)) => Some(b),
        _ => None,
    });
    let mut out = TokenSpec::default();
    for (n, f) in spec.map(fields).unwrap_or(Some(Vec::new()))? {
        match (n, f) {
            (1, Field::Bytes(b)) => out.audiences.push(text(b)?),
            (4, Field::Varint(v)) => out.expiration_seconds = i64::try_from(v).ok(),
            (3, Field::Bytes(b)) => {
                for (m, g) in fields(b)? {
                    if let Field::Bytes(s) = g {
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
