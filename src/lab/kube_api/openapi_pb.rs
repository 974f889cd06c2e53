//! `/openapi/v2` as kube-apiserver serves it to kubectl: the gnostic `openapi.v2.Document`
//! protobuf (asked for as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`), the only form
//! kubectl's client-side validation (`apply`, `create`, `replace`) reads. Field numbers from
//! google/gnostic openapiv2/OpenAPIv2.proto; only what a schema needs is written (types,
//! properties, items, references, required, additionalProperties, descriptions, and vendor
//! extensions as YAML, which kube-openapi reads `x-kubernetes-group-version-kind` from).

use serde_json::Value;

/// The type the answer is labelled with: kube-openapi's, with `.` for the `@` Go's media type
/// parser (which client-go runs on every answer) refuses.
pub const MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field (strings, bytes, messages).
fn bytes(out: &mut Vec<u8>, field: u64, value: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

fn boolean(out: &mut Vec<u8>, field: u64, value: bool) {
    varint(out, field << 3);
    varint(out, u64::from(value));
}

/// `Document`: swagger (1), info (2: title 1, version 2), paths (8, empty), definitions (9:
/// repeated NamedSchema 1) from a Swagger 2.0 JSON document.
pub fn document(doc: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    bytes(&mut out, 1, b"2.0");
    let mut info = Vec::new();
    bytes(
        &mut info,
        1,
        doc["info"]["title"]
            .as_str()
            .unwrap_or("Kubernetes")
            .as_bytes(),
    );
    bytes(
        &mut info,
        2,
        doc["info"]["version"]
            .as_str()
            .unwrap_or_default()
            .as_bytes(),
    );
    bytes(&mut out, 2, &info);
    bytes(&mut out, 8, &[]);
    let mut definitions = Vec::new();
    if let Some(defs) = doc["definitions"].as_object() {
        for (name, schema) in defs {
            bytes(&mut definitions, 1, &named_schema(name, schema));
        }
    }
    bytes(&mut out, 9, &definitions);
    out
}

fn named_schema(name: &str, schema: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    bytes(&mut out, 1, name.as_bytes());
    bytes(&mut out, 2, &schema_message(schema));
    out
}

/// `Schema`: `$ref` 1, format 2, description 4, required 19, additionalProperties 21, type 22,
/// items 23, allOf 24, properties 25, vendor extensions 31.
fn schema_message(s: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(obj) = s.as_object() else {
        return out;
    };
    // A lone `allOf: [{$ref}]` (how OpenAPI 3 gives a reference a description) is the reference.
    let all_of = obj.get("allOf").and_then(Value::as_array);
    let reference = obj.get("$ref").or_else(|| {
        all_of
            .filter(|a| a.len() == 1)
            .and_then(|a| a[0].get("$ref"))
    });
    if let Some(r) = reference.and_then(Value::as_str) {
        bytes(&mut out, 1, r.as_bytes());
    }
    for (field, key) in [(2, "format"), (4, "description")] {
        if let Some(v) = obj.get(key).and_then(Value::as_str) {
            bytes(&mut out, field, v.as_bytes());
        }
    }
    for r in obj
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        bytes(&mut out, 19, r.as_str().unwrap_or_default().as_bytes());
    }
    shape(obj, &mut out);
    if reference.is_none() {
        for a in all_of.into_iter().flatten() {
            bytes(&mut out, 24, &schema_message(a));
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let mut item = Vec::new();
        for (name, p) in props {
            bytes(&mut item, 1, &named_schema(name, p));
        }
        bytes(&mut out, 25, &item);
    }
    for (name, v) in obj.iter().filter(|(k, _)| k.starts_with("x-")) {
        // `Any` (yaml 2) inside `NamedAny` (name 1, value 2): JSON is YAML.
        let mut any = Vec::new();
        bytes(&mut any, 2, v.to_string().as_bytes());
        let mut named = Vec::new();
        bytes(&mut named, 1, name.as_bytes());
        bytes(&mut named, 2, &any);
        bytes(&mut out, 31, &named);
    }
    out
}

/// additionalProperties (21), type (22) and items (23).
fn shape(obj: &serde_json::Map<String, Value>, out: &mut Vec<u8>) {
    match obj.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut item = Vec::new();
            boolean(&mut item, 2, *b);
            bytes(out, 21, &item);
        }
        Some(v @ Value::Object(_)) => {
            let mut item = Vec::new();
            bytes(&mut item, 1, &schema_message(v));
            bytes(out, 21, &item);
        }
        _ => {}
    }
    let types: Vec<&str> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let mut item = Vec::new();
        for t in types {
            bytes(&mut item, 1, t.as_bytes());
        }
        bytes(out, 22, &item);
    }
    let items: Vec<&Value> = match obj.get("items") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    if !items.is_empty() {
        let mut item = Vec::new();
        for i in items {
            bytes(&mut item, 1, &schema_message(i));
        }
        bytes(out, 23, &item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_written_as_protobuf_reads_them() {
        let s = json!({"type": "string", "description": "d"});
        // description (4, "d"), then type (22: TypeItem { value 1: "string" }).
        assert_eq!(
            schema_message(&s),
            [&[0x22, 1, b'd'][..], &[0xb2, 0x01, 8, 0x0a, 6], b"string"].concat()
        );
        let r = json!({"allOf": [{"$ref": "#/definitions/x"}], "description": "d"});
        assert!(schema_message(&r).starts_with(&[0x0a, 15]));
    }
}
