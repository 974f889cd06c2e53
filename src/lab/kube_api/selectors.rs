//! Label and field selectors on lists and watches, as kube-apiserver reads them
//! (k8s.io/apimachinery pkg/labels and pkg/fields): `k=v`, `k==v`, `k!=v`, `k`, `!k`,
//! `k in (a,b)`, `k notin (a,b)` for labels; `=`, `==`, `!=` on the fields a kind supports.
//! The lab's own reading; no client's parser is shared.

use serde_json::Value;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A list's selectors; an object passes when every requirement holds.
#[derive(Debug, Default, Clone)]
pub struct Selectors {
    labels: Vec<Req>,
    fields: Vec<Req>,
}

impl Selectors {
    /// The selectors of a list query (decoded), or the message kube-apiserver answers a bad one with.
    pub fn from_query(query: &str) -> Result<Selectors, String> {
        let mut s = Selectors::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "labelSelector" => s.labels = labels(&v)?,
                "fieldSelector" => s.fields = fields(&v)?,
                _ => {}
            }
        }
        Ok(s)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// A change as a watch with these selectors sees it, as kube-apiserver's watch cache
    /// filters: an object entering the selection is ADDED, leaving it DELETED, staying in it
    /// MODIFIED; None for a change the watch does not see. `previous` is the object before a
    /// MODIFIED.
    pub fn watched(&self, line: String, previous: Option<&Value>) -> Option<String> {
        if self.is_empty() {
            return Some(line);
        }
        let event: Value = serde_json::from_str(&line).ok()?;
        let kind = event["type"].as_str().unwrap_or_default();
        let now = self.matches(&event["object"]);
        let before = previous.is_some_and(|p| self.matches(p));
        let object = || event["object"].clone();
        match (kind, before, now) {
            ("BOOKMARK" | "ERROR", _, _) => Some(line),
            ("MODIFIED", false, true) => Some(super::watch::event("ADDED", object())),
            ("MODIFIED", true, false) => Some(super::watch::event("DELETED", object())),
            ("MODIFIED", false, false) => None,
            (_, _, true) => Some(line),
            _ => None,
        }
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let label = |k: &str| {
            obj.pointer("/metadata/labels")
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let field = |k: &str| field_value(obj, k);
        self.labels.iter().all(|r| holds(r, &label)) && self.fields.iter().all(|r| holds(r, &field))
    }
}

/// A metav1.LabelSelector (a webhook's namespace and object selectors, a workload's pod
/// selector) over `labels`, as the same requirements a `labelSelector` query holds:
/// matchLabels are `k=v`, matchExpressions In, NotIn, Exists and DoesNotExist. An absent or
/// empty selector selects everything; an unknown operator selects nothing.
pub fn selects(selector: &Value, labels: &Value) -> bool {
    let mut reqs: Vec<Req> = Vec::new();
    for (k, v) in selector["matchLabels"].as_object().into_iter().flatten() {
        reqs.push(match v.as_str() {
            Some(v) => Req::Eq(k.clone(), v.to_string()),
            None => Req::Absent(k.clone()),
        });
    }
    for e in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap_or_default().to_string();
        let values: Vec<String> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        reqs.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => Req::In(key, values),
            "NotIn" => Req::NotIn(key, values),
            "Exists" => Req::Exists(key),
            "DoesNotExist" => Req::Absent(key),
            _ => return false,
        });
    }
    let label = |k: &str| labels.get(k).and_then(Value::as_str).map(str::to_string);
    reqs.iter().all(|r| holds(r, &label))
}

fn holds(r: &Req, value: &dyn Fn(&str) -> Option<String>) -> bool {
    match r {
        Req::Eq(k, v) => value(k).as_deref() == Some(v.as_str()),
        // As kube-apiserver: `k!=v` also selects objects without the key.
        Req::Ne(k, v) => value(k).as_deref() != Some(v.as_str()),
        Req::Exists(k) => value(k).is_some(),
        Req::Absent(k) => value(k).is_none(),
        Req::In(k, vs) => value(k).is_some_and(|x| vs.contains(&x)),
        Req::NotIn(k, vs) => value(k).is_none_or(|x| !vs.contains(&x)),
    }
}

/// Fields every kind supports, and those kube-apiserver adds for pods; any other is refused
/// as the API server refuses it.
fn field_value(obj: &Value, field: &str) -> Option<String> {
    let pointer = match field {
        "metadata.name" => "/metadata/name",
        "metadata.namespace" => "/metadata/namespace",
        "spec.nodeName" => "/spec/nodeName",
        "spec.serviceAccountName" => "/spec/serviceAccountName",
        "status.phase" => "/status/phase",
        _ => return None,
    };
    // An unset field compares as the empty string, as the API server's field sets hold it.
    Some(
        obj.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    )
}

const FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.phase",
];

fn fields(text: &str) -> Result<Vec<Req>, String> {
    split_top(text)
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .map(|term| {
            let term = term.trim();
            let (k, v, eq) = if let Some((k, v)) = term.split_once("!=") {
                (k, v, false)
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, v, true)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{term}'"
                ));
            };
            let k = k.trim();
            if !FIELDS.contains(&k) {
                return Err(format!("field label not supported: {k}"));
            }
            let v = v.trim().to_string();
            Ok(if eq {
                Req::Eq(k.into(), v)
            } else {
                Req::Ne(k.into(), v)
            })
        })
        .collect()
}

fn labels(text: &str) -> Result<Vec<Req>, String> {
    split_top(text)
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| requirement(t.trim()).ok_or_else(|| format!("unable to parse requirement: {t}")))
        .collect()
}

fn requirement(t: &str) -> Option<Req> {
    let valid = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    };
    if let Some(k) = t.strip_prefix('!') {
        return valid(k.trim()).then(|| Req::Absent(k.trim().into()));
    }
    for (op, notin) in [(" notin ", true), (" in ", false)] {
        if let Some((k, set)) = t.split_once(op) {
            let inner = set.trim().strip_prefix('(')?.strip_suffix(')')?;
            let vs: Vec<String> = inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            let k = k.trim();
            return valid(k).then(|| {
                if notin {
                    Req::NotIn(k.into(), vs)
                } else {
                    Req::In(k.into(), vs)
                }
            });
        }
    }
    let (k, v, eq) = if let Some((k, v)) = t.split_once("!=") {
        (k, v, false)
    } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
        (k, v, true)
    } else {
        return valid(t).then(|| Req::Exists(t.into()));
    };
    let (k, v) = (k.trim(), v.trim().to_string());
    valid(k).then(|| {
        if eq {
            Req::Eq(k.into(), v)
        } else {
            Req::Ne(k.into(), v)
        }
    })
}

/// Commas outside parentheses separate requirements.
fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value, phase: &str) -> Value {
        json!({"metadata": {"name": "p", "namespace": "apps", "labels": labels},
               "spec": {"nodeName": "n1", "serviceAccountName": "sa"}, "status": {"phase": phase}})
    }

    fn sel(q: &str) -> Selectors {
        Selectors::from_query(q).unwrap()
    }

    #[test]
    fn label_selectors_as_metav1_reads_them() {
        let labels = json!({"azure.workload.identity/use": "true", "tier": "web"});
        assert!(selects(&Value::Null, &labels));
        assert!(selects(&json!({}), &labels));
        assert!(selects(
            &json!({"matchLabels": {"azure.workload.identity/use": "true"}}),
            &labels
        ));
        assert!(!selects(
            &json!({"matchLabels": {"azure.workload.identity/use": "True"}}),
            &labels
        ));
        let not_aks = json!({"matchExpressions": [
            {"key": "kubernetes.azure.com/managedby", "operator": "NotIn", "values": ["aks"]}]});
        assert!(selects(&not_aks, &labels));
        assert!(!selects(
            &not_aks,
            &json!({"kubernetes.azure.com/managedby": "aks"})
        ));
        assert!(!selects(
            &json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
            &labels
        ));
    }

    #[test]
    fn label_selectors_as_kube_apiserver_reads_them() {
        let used = pod(
            json!({"azure.workload.identity/use": "true", "app": "api"}),
            "Running",
        );
        let bare = pod(json!({"app": "web"}), "Running");
        let q = "labelSelector=azure.workload.identity%2Fuse%3Dfalse";
        assert!(!sel(q).matches(&used) && !sel(q).matches(&bare));
        let q = "labelSelector=azure.workload.identity%2Fuse%3Dtrue";
        assert!(sel(q).matches(&used) && !sel(q).matches(&bare));
        assert!(sel("labelSelector=app!%3Dapi").matches(&bare));
        assert!(!sel("labelSelector=app!%3Dapi").matches(&used));
        assert!(sel("labelSelector=!azure.workload.identity%2Fuse").matches(&bare));
        assert!(sel("labelSelector=app%20in%20(api%2Cweb)").matches(&bare));
        assert!(!sel("labelSelector=app%20notin%20(api%2Cweb)").matches(&used));
        assert!(sel("labelSelector=app%2Capp%20in%20(api)").matches(&used));
        assert!(Selectors::from_query("labelSelector=app%20in%20api").is_err());
    }

    #[test]
    fn field_selectors_and_the_fields_refused() {
        let p = pod(json!({}), "Running");
        assert!(sel("fieldSelector=metadata.name%3Dp").matches(&p));
        assert!(sel("fieldSelector=status.phase!%3DFailed,spec.nodeName%3D%3Dn1").matches(&p));
        assert!(!sel("fieldSelector=spec.serviceAccountName%3Dother").matches(&p));
        assert_eq!(
            Selectors::from_query("fieldSelector=spec.containers%3Dx").unwrap_err(),
            "field label not supported: spec.containers"
        );
    }

    #[test]
    fn a_watch_sees_objects_enter_and_leave_its_selection() {
        let s = sel("labelSelector=app%3Dapi");
        let api = pod(json!({"app": "api"}), "Running");
        let web = pod(json!({"app": "web"}), "Running");
        let line = |kind: &str, o: &Value| super::super::watch::event(kind, o.clone());
        let kind = |l: Option<String>| {
            l.map(|l| {
                serde_json::from_str::<Value>(&l).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        };
        assert_eq!(
            kind(s.watched(line("MODIFIED", &api), Some(&web))).as_deref(),
            Some("ADDED")
        );
        assert_eq!(
            kind(s.watched(line("MODIFIED", &web), Some(&api))).as_deref(),
            Some("DELETED")
        );
        assert_eq!(
            kind(s.watched(line("MODIFIED", &api), Some(&api))).as_deref(),
            Some("MODIFIED")
        );
        assert_eq!(kind(s.watched(line("MODIFIED", &web), Some(&web))), None);
        assert_eq!(kind(s.watched(line("ADDED", &web), None)), None);
        assert_eq!(
            kind(s.watched(line("DELETED", &api), None)).as_deref(),
            Some("DELETED")
        );
        let bookmark = json!({"kind": "Pod", "metadata": {"resourceVersion": "7"}});
        assert_eq!(
            kind(s.watched(line("BOOKMARK", &bookmark), None)).as_deref(),
            Some("BOOKMARK")
        );
    }
}
