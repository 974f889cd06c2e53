//! The world file format: YAML streams or JSON holding Kubernetes objects (as `kubectl get -o
//! yaml` prints them, `kind: List` included), Azure resources (ARM, Graph and `az` CLI shapes)
//! and widiag's own documents (`WorldInfo`, `IssuerDiscovery`, `CapturedToken`,
//! `FederatedCredentialList`). See docs/world-format.md.
//!
//! Loading is all or nothing: the first malformed document fails the whole load.

mod azure;
mod documents;
mod error;
mod kube;
mod locate;
mod widiag;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use documents::{Format, MAX_WORLD_BYTES};

/// The documents of a world file as JSON values, before classification (schema checks use this).
pub fn documents(name: &str, text: &str) -> Result<Vec<Value>, LoadError> {
    documents::documents(name, text).map(|(_, d)| d.into_iter().map(|(_, v)| v).collect())
}
/// The documents of a world file with their position in its stream (0-based, as [`locate`]
/// counts them).
pub fn indexed_documents(name: &str, text: &str) -> Result<Vec<(usize, Value)>, LoadError> {
    documents::documents(name, text).map(|(_, d)| d)
}
pub use error::{LoadError, Location};
pub use locate::{Seg, display_path, lines_of, locate};

use super::{Ignored, World};

/// One world file's name (for messages) and text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Parses and merges world files, in order.
pub fn parse_world(sources: &[Source<'_>]) -> Result<World, LoadError> {
    let mut world = World::default();
    for source in sources {
        parse_into(&mut world, source)?;
    }
    Ok(world)
}

pub fn parse_str(name: &str, text: &str) -> Result<World, LoadError> {
    parse_world(&[Source { name, text }])
}

/// Adds one more document text to a world (live collection feeds API responses through here).
pub fn parse_more(world: &mut World, name: &str, text: &str) -> Result<(), LoadError> {
    parse_into(world, &Source { name, text })
}

fn parse_into(world: &mut World, source: &Source<'_>) -> Result<(), LoadError> {
    let (_format, docs) = documents::documents(source.name, source.text)?;
    for (index, doc) in docs {
        let cx = Cx {
            source,
            document: index,
            item: None,
            list_kind: None,
        };
        cx.document(world, doc)?;
    }
    Ok(())
}

/// Where an item sits, for error messages.
#[derive(Clone, Copy)]
struct Cx<'a> {
    source: &'a Source<'a>,
    document: usize,
    /// The list key (`items`, `value`, or none for a bare array) and index of the item.
    item: Option<(Option<&'static str>, usize)>,
    /// `kind` of the enclosing `XList`, for items that omit their own.
    list_kind: Option<&'a str>,
}

impl<'a> Cx<'a> {
    fn document(&self, world: &mut World, doc: Value) -> Result<(), LoadError> {
        match doc {
            Value::Null => Ok(()),
            Value::Array(items) => self.items(world, items, None, None),
            Value::Object(ref map) => {
                let kind = map
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let list_items = map.get("items").is_some_and(Value::is_array)
                    && (kind == "List"
                        || kind.ends_with("List") && kind != "FederatedCredentialList");
                let arm_page = !map.contains_key("kind")
                    && !map.contains_key("type")
                    && map.get("value").is_some_and(Value::is_array);
                if list_items || arm_page {
                    let key = if list_items { "items" } else { "value" };
                    let list_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
                    let list_kind = list_kind.map(str::to_string);
                    let key: &'static str = key;
                    let Value::Object(mut map) = doc else {
                        unreachable!()
                    };
                    let Some(Value::Array(items)) = map.remove(key) else {
                        unreachable!()
                    };
                    self.items(world, items, Some(key), list_kind.as_deref())
                } else {
                    self.item_value(world, doc)
                }
            }
            other => Err(self.shape(format!(
                "expected an object or a list of objects, found {}",
                json_type(&other)
            ))),
        }
    }

    fn items(
        &self,
        world: &mut World,
        items: Vec<Value>,
        key: Option<&'static str>,
        list_kind: Option<&str>,
    ) -> Result<(), LoadError> {
        for (i, item) in items.into_iter().enumerate() {
            let cx = Cx {
                item: Some((key, i)),
                list_kind,
                ..*self
            };
            cx.item_value(world, item)?;
        }
        Ok(())
    }

    fn item_value(&self, world: &mut World, item: Value) -> Result<(), LoadError> {
        let Value::Object(map) = &item else {
            return Err(self.shape(format!("expected an object, found {}", json_type(&item))));
        };
        if let Some(t) = map.get("@odata.type").and_then(Value::as_str) {
            let t = t.to_string();
            return azure::add_graph(self, world, &t, item);
        }
        // ARM resources may carry a `kind` of their own (StorageV2); their `type` decides.
        let arm_type = map
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| t.contains('/'));
        if let (Some(t), false) = (arm_type, map.contains_key("apiVersion")) {
            let t = t.to_string();
            return azure::add_arm(self, world, &t, item);
        }
        if let Some(kind) = map.get("kind").and_then(Value::as_str).or(self.list_kind) {
            let api_version = map
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = kind.to_string();
            if api_version == super::WIDIAG_API_VERSION {
                return widiag::add(self, world, &kind, item);
            }
            return kube::add(self, world, &kind, item);
        }
        if map.contains_key("issuer") && map.contains_key("subject") {
            return Err(self.shape(
                "a federated credential without its owner: `az ad app federated-credential list` \
                 output must be wrapped in a `kind: FederatedCredentialList` document naming its \
                 `application` (see docs/world-format.md)"
                    .into(),
            ));
        }
        Err(self.shape(
            "object has no `kind` (Kubernetes), `type` (ARM) or `@odata.type` (Microsoft Graph)"
                .into(),
        ))
    }

    fn location(&self, path: &[Seg]) -> Box<Location> {
        let mut full = Vec::new();
        if let Some((key, i)) = self.item {
            full.extend(key.map(|k| Seg::Key(k.into())));
            full.push(Seg::Index(i));
        }
        full.extend_from_slice(path);
        let at = locate(self.source.text, self.document, &full);
        Box::new(Location {
            file: self.source.name.into(),
            document: self.document + 1,
            item: self.item.map(|(_, i)| i + 1),
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
        })
    }

    fn shape(&self, message: String) -> LoadError {
        LoadError::Shape {
            at: self.location(&[]),
            message,
        }
    }

    /// Deserialises `value` as `T`, naming the field and its line on failure.
    fn typed<T: DeserializeOwned>(&self, what: &str, value: &Value) -> Result<T, LoadError> {
        self.typed_at(what, value, &[])
    }

    /// As [`Self::typed`] for a value found at `prefix` inside the item (ARM `properties`).
    fn typed_at<T: DeserializeOwned>(
        &self,
        what: &str,
        value: &Value,
        prefix: &[Seg],
    ) -> Result<T, LoadError> {
        serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
            let mut path = prefix.to_vec();
            path.extend(locate::path_from(e.path()));
            LoadError::Field {
                at: self.location(&path),
                what: what.into(),
                field: display_path(&path),
                message: e.into_inner().to_string(),
            }
        })
    }

    fn field_error(&self, what: &str, field: &str, message: String) -> LoadError {
        let path = [Seg::Key(field.into())];
        LoadError::Field {
            at: self.location(&path),
            what: what.into(),
            field: field.into(),
            message,
        }
    }

    fn ignore(&self, world: &mut World, kind: &str, name: &str) {
        world.ignored.push(Ignored {
            file: self.source.name.into(),
            document: self.document + 1,
            kind: kind.into(),
            name: name.into(),
        });
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `metadata.namespace/metadata.name` or `name`, for messages.
fn describe(value: &Value) -> String {
    let meta = value.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .or_else(|| value.get("name"))
        .or_else(|| value.get("displayName"))
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)");
    match meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}
