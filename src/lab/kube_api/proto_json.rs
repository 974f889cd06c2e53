//! Typed kubectl writes (`kubectl create job --from`, `create serviceaccount`, `create
//! clusterrolebinding`, ...) arrive as protobuf in the `k8s\0` envelope. The lab reads them as
//! kube-apiserver does, by the message definitions of k8s.io/api and k8s.io/apimachinery
//! (`assets/kube-proto`, their generated.proto files vendored with comments removed), and turns
//! them into the JSON objects it keeps. Go's JSON tags drop empty values (`omitempty`); so does
//! this, for strings and lists; a message sent empty stays `{}`, as a set Go pointer does. Embedded Go structs, inlined in JSON, are listed in
//! `INLINE`.

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine;
use serde_json::{Map, Value};

const PROTOS: &[&str] = &[
    include_str!("../../../assets/kube-proto/core_v1.proto"),
    include_str!("../../../assets/kube-proto/batch_v1.proto"),
    include_str!("../../../assets/kube-proto/rbac_v1.proto"),
    include_str!("../../../assets/kube-proto/apps_v1.proto"),
    include_str!("../../../assets/kube-proto/apis_meta_v1.proto"),
    include_str!("../../../assets/kube-proto/api_resource.proto"),
    include_str!("../../../assets/kube-proto/util_intstr.proto"),
    include_str!("../../../assets/kube-proto/runtime.proto"),
    include_str!("../../../assets/kube-proto/runtime_schema.proto"),
];

/// Fields whose Go struct is embedded (`json:",inline"`), so JSON has their fields in the
/// parent: core/v1 types.go Volume.VolumeSource, Probe.ProbeHandler,
/// EphemeralContainer.EphemeralContainerCommon, PersistentVolumeSpec.PersistentVolumeSource.
const INLINE: &[(&str, &str)] = &[
    ("k8s.io.api.core.v1.Volume", "volumeSource"),
    ("k8s.io.api.core.v1.Probe", "handler"),
    (
        "k8s.io.api.core.v1.EphemeralContainer",
        "ephemeralContainerCommon",
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeSpec",
        "persistentVolumeSource",
    ),
];

#[derive(Debug)]
enum Kind {
    Scalar(String),
    Message(String),
    /// map<string, value> (the only maps k8s.io/api has): entries are messages with the key
    /// as field 1, the value as field 2.
    Map(Box<Kind>),
}

#[derive(Debug)]
struct FieldDef {
    name: String,
    repeated: bool,
    kind: Kind,
}

type Schema = HashMap<String, HashMap<u64, FieldDef>>;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut all = Schema::new();
        for text in PROTOS {
            parse(text, &mut all);
        }
        all
    })
}

const SCALARS: &[&str] = &[
    "string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float",
];

fn kind_of(package: &str, ty: &str) -> Kind {
    if SCALARS.contains(&ty) {
        Kind::Scalar(ty.to_string())
    } else if let Some(fq) = ty.strip_prefix('.') {
        Kind::Message(fq.to_string())
    } else {
        Kind::Message(format!("{package}.{ty}"))
    }
}

/// The messages of one generated.proto (no nesting, proto2 `optional`/`repeated`/`map`).
fn parse(text: &str, all: &mut Schema) {
    let mut package = "";
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("package ") {
            package = p.trim_end_matches(';');
        } else if let Some(m) = line.strip_prefix("message ") {
            let name = format!("{package}.{}", m.trim_end_matches('{').trim());
            all.entry(name.clone()).or_default();
            current = Some(name);
        } else if line == "}" {
            current = None;
        } else if let Some(msg) = &current
            && let Some((def, number)) = field_line(package, line)
        {
            all.entry(msg.clone()).or_default().insert(number, def);
        }
    }
}

fn field_line(package: &str, line: &str) -> Option<(FieldDef, u64)> {
    let (decl, number) = line.trim_end_matches(';').split_once('=')?;
    let number: u64 = number.trim().parse().ok()?;
    let decl = decl.trim();
    if let Some(rest) = decl.strip_prefix("map<") {
        let (types, name) = rest.split_once('>')?;
        let (_, value) = types.split_once(',')?;
        let def = FieldDef {
            name: name.trim().to_string(),
            repeated: false,
            kind: Kind::Map(Box::new(kind_of(package, value.trim()))),
        };
        return Some((def, number));
    }
    let mut words = decl.split_whitespace();
    let label = words.next()?;
    let (ty, name) = (words.next()?, words.next()?);
    let def = FieldDef {
        name: name.to_string(),
        repeated: label == "repeated",
        kind: kind_of(package, ty),
    };
    Some((def, number))
}

/// One wire value.
pub(super) enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
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

/// The fields of one protobuf message, in order (wire types 0, 1, 2 and 5).
pub(super) fn wire(mut b: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (key, rest) = varint(b)?;
        b = rest;
        let value = match key & 7 {
            0 => {
                let (v, rest) = varint(b)?;
                b = rest;
                Wire::Varint(v)
            }
            1 => {
                let (v, rest) = b.split_first_chunk::<8>()?;
                b = rest;
                Wire::Fixed64(u64::from_le_bytes(*v))
            }
            2 => {
                let (len, rest) = varint(b)?;
                let len = usize::try_from(len).ok()?;
                let (bytes, rest) = (rest.get(..len)?, rest.get(len..)?);
                b = rest;
                Wire::Bytes(bytes)
            }
            5 => {
                let (v, rest) = b.split_first_chunk::<4>()?;
                b = rest;
                Wire::Fixed32(u32::from_le_bytes(*v))
            }
            _ => return None,
        };
        out.push((key >> 3, value));
    }
    Some(out)
}

/// The message inside the `k8s\0` envelope (`runtime.Unknown.raw`, field 2).
pub fn enveloped(body: &[u8]) -> Option<&[u8]> {
    let envelope = body.strip_prefix(b"k8s\0")?;
    wire(envelope)?.into_iter().find_map(|(n, w)| match (n, w) {
        (2, Wire::Bytes(b)) => Some(b),
        _ => None,
    })
}

/// The JSON object a protobuf write in the `k8s\0` envelope carries, for the message type
/// (`k8s.io.api.batch.v1.Job`); None when it is not such a message.
pub fn object(body: &[u8], message: &str) -> Option<Value> {
    let raw = enveloped(body)?;
    schema().get(message)?;
    decode(message, raw)
}

fn decode(message: &str, bytes: &[u8]) -> Option<Value> {
    if let Some(special) = well_known(message, bytes) {
        return special;
    }
    let defs = schema().get(message)?;
    let mut out = Map::new();
    for (number, w) in wire(bytes)? {
        let Some(def) = defs.get(&number) else {
            continue;
        };
        let value = match &def.kind {
            Kind::Map(value_kind) => {
                let Wire::Bytes(entry) = w else { continue };
                let (k, v) = map_entry(entry, value_kind)?;
                out.entry(def.name.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()?
                    .insert(k, v);
                continue;
            }
            kind => value_of(kind, &w)?,
        };
        if INLINE.contains(&(message, def.name.as_str())) {
            if let Value::Object(inner) = value {
                out.extend(inner);
            }
        } else if def.repeated {
            out.entry(def.name.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()?
                .push(value);
        } else {
            out.insert(def.name.clone(), value);
        }
    }
    out.retain(|_, v| !is_empty(v));
    Some(Value::Object(out))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        // A message present on the wire is a set pointer: Go keeps `{}` (omitempty drops only
        // nil pointers).
        Value::Object(_) => false,
        Value::Null => true,
        _ => false,
    }
}

fn map_entry(entry: &[u8], value_kind: &Kind) -> Option<(String, Value)> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (n, w) in wire(entry)? {
        match (n, &w) {
            (1, Wire::Bytes(b)) => key = String::from_utf8(b.to_vec()).ok()?,
            (2, _) => value = value_of(value_kind, &w)?,
            _ => {}
        }
    }
    Some((key, value))
}

fn value_of(kind: &Kind, w: &Wire<'_>) -> Option<Value> {
    Some(match (kind, w) {
        (Kind::Message(m), Wire::Bytes(b)) => decode(m, b)?,
        (Kind::Scalar(t), Wire::Bytes(b)) if t == "string" => {
            Value::String(String::from_utf8(b.to_vec()).ok()?)
        }
        (Kind::Scalar(_), Wire::Bytes(b)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        (Kind::Scalar(t), Wire::Varint(v)) => match t.as_str() {
            "bool" => Value::Bool(*v != 0),
            // Two's complement: int32 and int64 negatives are sent as 64-bit varints.
            "int32" | "int64" => Value::from(*v as i64),
            _ => Value::from(*v),
        },
        (Kind::Scalar(_), Wire::Fixed64(v)) => Value::from(f64::from_bits(*v)),
        (Kind::Scalar(_), Wire::Fixed32(v)) => Value::from(f64::from(f32::from_bits(*v))),
        _ => return None,
    })
}

/// apimachinery's types with a JSON form of their own: Quantity and IntOrString (their custom
/// marshalers), Time and MicroTime (RFC 3339), Duration (a Go duration string), FieldsV1 and
/// RawExtension (the JSON they hold).
fn well_known(message: &str, bytes: &[u8]) -> Option<Option<Value>> {
    well_known_value(message, bytes).map(|v| Some(v.unwrap_or(Value::Null)))
}

fn well_known_value(message: &str, bytes: &[u8]) -> Option<Option<Value>> {
    let fields = || wire(bytes).unwrap_or_default();
    let int = |n: u64| {
        fields().into_iter().find_map(|(m, w)| match w {
            Wire::Varint(v) if m == n => Some(v),
            _ => None,
        })
    };
    let raw = |n: u64| {
        fields().into_iter().find_map(|(m, w)| match w {
            Wire::Bytes(b) if m == n => Some(b),
            _ => None,
        })
    };
    let text = |n: u64| raw(n).and_then(|b| String::from_utf8(b.to_vec()).ok());
    Some(match message {
        "k8s.io.apimachinery.pkg.api.resource.Quantity" => text(1).map(Value::String),
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => match int(1).unwrap_or(0) {
            0 => Some(Value::from(int(2).unwrap_or(0) as i64)),
            _ => text(3).map(Value::String),
        },
        "k8s.io.apimachinery.pkg.apis.meta.v1.Time"
        | "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime" => {
            // The zero time marshals as null in JSON.
            let seconds = int(1).unwrap_or(0) as i64;
            (seconds != 0)
                .then(|| jiff::Timestamp::from_second(seconds).ok())
                .flatten()
                .map(|t| Value::String(super::kube_time(t)))
        }
        "k8s.io.apimachinery.pkg.apis.meta.v1.Duration" => {
            let nanos = int(1).unwrap_or(0) as i64;
            Some(Value::String(format!("{}s", nanos / 1_000_000_000)))
        }
        "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"
        | "k8s.io.apimachinery.pkg.runtime.RawExtension" => {
            raw(1).and_then(|b| serde_json::from_slice(b).ok())
        }
        _ => return None,
    })
}

/// The protobuf message name of a resource's kind: `k8s.io.api.{package}.{version}.{Kind}`.
pub fn message_of(group: &str, version: &str, kind: &str) -> Option<String> {
    let package = match group {
        "" => "core",
        "batch" => "batch",
        "apps" => "apps",
        "rbac.authorization.k8s.io" => "rbac",
        _ => return None,
    };
    Some(format!("k8s.io.api.{package}.{version}.{kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tag(n: u64, wire: u64) -> u8 {
        u8::try_from((n << 3) | wire).unwrap()
    }

    fn bytes(n: u64, b: &[u8]) -> Vec<u8> {
        let mut out = vec![tag(n, 2), u8::try_from(b.len()).unwrap()];
        out.extend_from_slice(b);
        out
    }

    #[test]
    fn the_schema_holds_the_messages_kubectl_sends() {
        let s = schema();
        for m in [
            "k8s.io.api.batch.v1.Job",
            "k8s.io.api.core.v1.PodSpec",
            "k8s.io.api.core.v1.ServiceAccount",
            "k8s.io.api.rbac.v1.ClusterRoleBinding",
            "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        ] {
            assert!(s.contains_key(m), "{m}");
        }
        // core/v1 PodSpec: serviceAccountName = 8, containers = 2 (repeated Container).
        let spec = &s["k8s.io.api.core.v1.PodSpec"];
        assert_eq!(spec[&8].name, "serviceAccountName");
        assert!(spec[&2].repeated);
    }

    #[test]
    fn a_cluster_role_binding_decodes_as_kubectl_built_it() {
        // ClusterRoleBinding{metadata{name, labels{a: b}}, subjects[{kind, name, namespace}], roleRef}.
        let mut label = bytes(1, b"a");
        label.extend(bytes(2, b"b"));
        let mut meta = bytes(1, b"use-mi");
        meta.extend(bytes(11, &label));
        let mut subject = bytes(1, b"ServiceAccount");
        subject.extend(bytes(3, b"bound"));
        subject.extend(bytes(4, b"apps"));
        let mut role = bytes(1, b"rbac.authorization.k8s.io");
        role.extend(bytes(2, b"ClusterRole"));
        role.extend(bytes(3, b"use-mi"));
        let mut crb = bytes(1, &meta);
        crb.extend(bytes(2, &subject));
        crb.extend(bytes(3, &role));
        let mut body = b"k8s\0".to_vec();
        body.extend(bytes(2, &crb));
        assert_eq!(
            object(&body, "k8s.io.api.rbac.v1.ClusterRoleBinding").unwrap(),
            json!({"metadata": {"name": "use-mi", "labels": {"a": "b"}},
                   "subjects": [{"kind": "ServiceAccount", "name": "bound", "namespace": "apps"}],
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "use-mi"}})
        );
    }

    #[test]
    fn embedded_structs_are_inlined_and_intorstring_is_a_number_or_text() {
        // Volume{name = 1, volumeSource = 2 {emptyDir = 2 {}}}.
        let mut volume = bytes(1, b"cache");
        volume.extend(bytes(2, &bytes(2, &[])));
        let v = decode("k8s.io.api.core.v1.Volume", &volume).unwrap();
        assert_eq!(v, json!({"name": "cache", "emptyDir": {}}));
        let port = [tag(1, 0), 0, tag(2, 0), 80];
        assert_eq!(
            decode("k8s.io.apimachinery.pkg.util.intstr.IntOrString", &port),
            Some(json!(80))
        );
    }
}
