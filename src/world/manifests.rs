//! Kubernetes manifests (`widiag check -f`): the objects a pull request would apply, read with
//! the world parser, with where each sits in its file (SARIF points there). [`apply`] lays them
//! over a world as `kubectl apply` would leave it before any controller acts: an object replaces
//! the one of the same kind and name (labels and annotations merged), and the pods, ReplicaSets,
//! Jobs and events of a replaced workload go (they belong to the old template).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::Metadata;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::parse::{self, LoadError, Location, Seg, Source};
use super::{KubeObjects, World};

/// (namespace, kind, name) of an object in the manifests.
pub type Key = (String, String, String);

/// The kinds whose pods `check -f` analyses.
pub const SUBJECT_KINDS: [&str; 7] = [
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
];

/// Kinds without a namespace, among those widiag reads.
const CLUSTER_SCOPED: [&str; 3] = ["Namespace", "Node", "MutatingWebhookConfiguration"];

/// Where an object sits in the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    /// 1-based document in the file.
    pub document: usize,
    /// 1-based item of a `List` document.
    pub item: Option<usize>,
    /// Line of `metadata.name`.
    pub line: Option<u64>,
    /// Line of the pod template's `metadata` (a Pod's own), where labels and annotations go.
    pub template_line: Option<u64>,
    /// Line of the pod spec's `serviceAccountName`.
    pub service_account_line: Option<u64>,
    /// The chart template `helm template` names above the document (`# Source: ...`).
    pub rendered_from: Option<String>,
}

/// Where each object of the manifests sits.
pub type Origins = BTreeMap<Key, Origin>;

#[derive(Debug, Clone, Default)]
pub struct Manifests {
    pub objects: KubeObjects,
    pub origins: Origins,
}

impl Manifests {
    /// The workloads and pods of the manifests: what `check -f` analyses.
    pub fn subjects(&self) -> BTreeSet<Key> {
        self.origins
            .keys()
            .filter(|(_, kind, _)| SUBJECT_KINDS.contains(&kind.as_str()))
            .cloned()
            .collect()
    }
}

/// Reads manifests: every document (or `List` item) must be a Kubernetes object. Namespaced
/// objects without a namespace get `namespace`, as `kubectl apply -n` gives them.
pub fn read(sources: &[Source<'_>], namespace: &str) -> Result<Manifests, LoadError> {
    let mut origins: Origins = BTreeMap::new();
    for source in sources {
        for (key, origin) in origins_of(source, namespace)? {
            if let Some(first) = origins.get(&key) {
                return Err(LoadError::Shape {
                    at: Box::new(Location {
                        file: origin.file.clone(),
                        document: origin.document,
                        item: origin.item,
                        line: origin.line,
                        column: None,
                    }),
                    message: format!(
                        "{} {}/{} is also defined in {} document {}: which one would be \
                         applied depends on the order",
                        key.1, key.0, key.2, first.file, first.document
                    ),
                });
            }
            origins.insert(key, origin);
        }
    }
    let mut world = parse::parse_world(sources)?;
    default_namespace(&mut world.kube, namespace);
    Ok(Manifests {
        objects: world.kube,
        origins,
    })
}

/// Every object of one file with its place, the lines found in one pass over the text.
fn origins_of(source: &Source<'_>, namespace: &str) -> Result<Vec<(Key, Origin)>, LoadError> {
    let docs = parse::indexed_documents(source.name, source.text)?;
    let mut found = Vec::new();
    // Per object, three (document, path) lines to look up: its name, template, ServiceAccount.
    let mut wanted: Vec<(usize, Vec<Seg>)> = Vec::new();
    for (doc, value) in &docs {
        for (item, path, object) in items(value) {
            let key = identify(object, namespace).map_err(|message| LoadError::Shape {
                at: Box::new(Location {
                    file: source.name.into(),
                    document: doc + 1,
                    item,
                    line: parse::locate(source.text, *doc, &path).map(|a| a.0),
                    column: None,
                }),
                message,
            })?;
            let under = |tail: &[&str]| {
                let mut p = path.clone();
                p.extend(tail.iter().map(|k| Seg::Key((*k).into())));
                p
            };
            let template = template_path(&key.1);
            let field = |last: &[&str]| match template {
                Some(t) => under(&[t, last].concat()),
                // Never a node's path: a kind with no pod template has no such line.
                None => vec![Seg::Index(usize::MAX)],
            };
            found.push((key, *doc, item, wanted.len()));
            wanted.push((*doc, under(&["metadata", "name"])));
            wanted.push((*doc, field(&["metadata"])));
            wanted.push((*doc, field(&["spec", "serviceAccountName"])));
        }
    }
    let lines = parse::lines_of(source.text, &wanted);
    let text_lines: Vec<&str> = source.text.lines().collect();
    Ok(found
        .into_iter()
        .map(|(key, doc, item, i)| {
            let origin = Origin {
                file: source.name.into(),
                document: doc + 1,
                item,
                line: lines[i],
                template_line: lines[i + 1],
                service_account_line: lines[i + 2],
                rendered_from: helm_source(&text_lines, lines[i].filter(|_| item.is_none())),
            };
            (key, origin)
        })
        .collect())
}

/// The objects of a document with their 1-based item index and path: a `List`'s items, or the
/// document itself.
fn items(doc: &Value) -> Vec<(Option<usize>, Vec<Seg>, &Value)> {
    let list = doc
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"));
    match doc.get("items").and_then(Value::as_array) {
        Some(items) if list => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    Some(i + 1),
                    vec![Seg::Key("items".into()), Seg::Index(i)],
                    v,
                )
            })
            .collect(),
        _ if doc.is_null() => Vec::new(),
        _ => vec![(None, Vec::new(), doc)],
    }
}

/// An object's key, or why it is not a Kubernetes object.
fn identify(object: &Value, namespace: &str) -> Result<Key, String> {
    let text = |k: &str| object.get(k).and_then(Value::as_str);
    let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else {
        return Err(
            "not a Kubernetes object (it needs `apiVersion` and `kind`): -f reads \
                    manifests; Azure resources and widiag documents go in a --world file"
                .into(),
        );
    };
    if api_version == super::WIDIAG_API_VERSION {
        return Err(format!(
            "{kind} is a widiag document, not a manifest: pass it with --world"
        ));
    }
    let meta = object.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{kind} has no metadata.name"))?;
    let ns = match meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        _ if CLUSTER_SCOPED.contains(&kind) => String::new(),
        Some(ns) if !ns.is_empty() => ns.to_string(),
        _ => namespace.to_string(),
    };
    Ok((ns, kind.to_string(), name.to_string()))
}

/// Where the pod template of a kind sits (a Pod is its own).
fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&[]),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
            Some(&["spec", "template"])
        }
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// `# Source: chart/templates/x.yaml`, the comment `helm template` writes above each document:
/// between the line of the document's name (1-based) and the `---` before it. Each document's
/// own lines are read once; `List` items (which Helm never writes) have none.
fn helm_source(lines: &[&str], name_line: Option<u64>) -> Option<String> {
    let name = usize::try_from(name_line?).ok()?;
    lines
        .get(..name.saturating_sub(1))?
        .iter()
        .rev()
        .take_while(|l| !l.starts_with("---"))
        .find_map(|l| l.trim().strip_prefix("# Source: "))
        .map(|s| s.trim().to_string())
}

fn default_namespace(k: &mut KubeObjects, namespace: &str) {
    fn fill<T: Metadata<Ty = ObjectMeta>>(objects: &mut [T], namespace: &str) {
        for o in objects {
            let meta = o.metadata_mut();
            if meta.namespace.as_deref().is_none_or(str::is_empty) {
                meta.namespace = Some(namespace.to_string());
            }
        }
    }
    fill(&mut k.service_accounts, namespace);
    fill(&mut k.pods, namespace);
    fill(&mut k.deployments, namespace);
    fill(&mut k.replica_sets, namespace);
    fill(&mut k.stateful_sets, namespace);
    fill(&mut k.daemon_sets, namespace);
    fill(&mut k.jobs, namespace);
    fill(&mut k.cron_jobs, namespace);
    fill(&mut k.config_maps, namespace);
    fill(&mut k.services, namespace);
    fill(&mut k.events, namespace);
}

/// Lays the manifests over `world` as if applied.
pub fn apply(world: &mut World, m: &Manifests) {
    let k = &mut world.kube;
    let o = &m.objects;
    replace(&mut k.namespaces, &o.namespaces);
    replace(&mut k.service_accounts, &o.service_accounts);
    replace(&mut k.deployments, &o.deployments);
    replace(&mut k.stateful_sets, &o.stateful_sets);
    replace(&mut k.daemon_sets, &o.daemon_sets);
    replace(&mut k.cron_jobs, &o.cron_jobs);
    replace(&mut k.mutating_webhooks, &o.mutating_webhooks);
    replace(&mut k.cluster_roles, &o.cluster_roles);
    replace(&mut k.cluster_role_bindings, &o.cluster_role_bindings);
    replace(&mut k.config_maps, &o.config_maps);
    replace(&mut k.services, &o.services);
    replace(&mut k.nodes, &o.nodes);
    // What the replaced workloads made from their old templates goes with them.
    let applied: BTreeSet<Key> = m.subjects();
    let made_by = |meta: &ObjectMeta, kinds: &[&str]| {
        let ns = meta.namespace.clone().unwrap_or_default();
        meta.owner_references.iter().flatten().any(|r| {
            kinds.contains(&r.kind.as_str())
                && applied.contains(&(ns.clone(), r.kind.clone(), r.name.clone()))
        })
    };
    let mut gone: BTreeSet<(String, String)> = BTreeSet::new();
    let mut drop_made = |meta: &ObjectMeta, kinds: &[&str]| {
        let made = made_by(meta, kinds);
        if made {
            gone.insert(ns_name(meta));
        }
        !made
    };
    k.replica_sets
        .retain(|r| drop_made(&r.metadata, &["Deployment"]));
    k.jobs.retain(|j| drop_made(&j.metadata, &["CronJob"]));
    replace(&mut k.replica_sets, &o.replica_sets);
    replace(&mut k.jobs, &o.jobs);
    k.pods.retain(|p| {
        let owner_gone = p.metadata.owner_references.iter().flatten().any(|r| {
            gone.contains(&(ns_name(&p.metadata).0, r.name.clone()))
                && ["ReplicaSet", "Job"].contains(&r.kind.as_str())
        });
        let made = made_by(
            &p.metadata,
            &["ReplicaSet", "StatefulSet", "DaemonSet", "Job"],
        );
        if owner_gone || made {
            gone.insert(ns_name(&p.metadata));
        }
        !(owner_gone || made)
    });
    replace(&mut k.pods, &o.pods);
    for (ns, _, name) in &applied {
        gone.insert((ns.clone(), name.clone()));
    }
    // Events about them, or about the ReplicaSets and Jobs their controllers named
    // `<workload>-<hash>` (the FailedCreate of the old template), go too.
    k.events.retain(|e| {
        let i = &e.involved_object;
        let ns = i.namespace.clone().unwrap_or_default();
        let name = i.name.clone().unwrap_or_default();
        let made = ["ReplicaSet", "Job"].contains(&i.kind.as_deref().unwrap_or_default())
            && applied
                .iter()
                .any(|(n, _, w)| *n == ns && super::kube::generated_by(&name, w));
        !made && !gone.contains(&(ns, name))
    });
    k.events.extend(o.events.iter().cloned());
}

fn ns_name(meta: &ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Objects of `new` replace those of `base` with the same namespace and name, as `kubectl
/// apply` leaves them: the manifest's spec, and the cluster's labels and annotations that the
/// manifest does not set kept beside its own (a client-id annotated by hand, a namespace label
/// another tool manages). A key the previous apply set and this manifest drops would go; which
/// those are only the last-applied annotation knows, so they are kept.
fn replace<T: Metadata<Ty = ObjectMeta> + Clone>(base: &mut Vec<T>, new: &[T]) {
    let mut old: BTreeMap<(String, String), T> = BTreeMap::new();
    let names: BTreeSet<(String, String)> = new.iter().map(|o| ns_name(o.metadata())).collect();
    base.retain(|o| {
        let key = ns_name(o.metadata());
        if names.contains(&key) {
            old.insert(key, o.clone());
            return false;
        }
        true
    });
    base.extend(new.iter().map(|o| {
        let mut o = o.clone();
        if let Some(before) = old.get(&ns_name(o.metadata())) {
            let before = before.metadata();
            let meta = o.metadata_mut();
            keep_others(&mut meta.labels, before.labels.as_ref());
            keep_others(&mut meta.annotations, before.annotations.as_ref());
        }
        o
    }));
}

/// The cluster's keys the manifest does not set, added to the manifest's map.
fn keep_others(
    manifest: &mut Option<BTreeMap<String, String>>,
    cluster: Option<&BTreeMap<String, String>>,
) {
    for (k, v) in cluster.into_iter().flatten() {
        if k == "kubectl.kubernetes.io/last-applied-configuration" {
            continue;
        }
        manifest
            .get_or_insert_with(BTreeMap::new)
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELM: &str = "---\n# Source: app/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n---\n# Source: app/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: shop\nspec:\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      serviceAccountName: app\n      containers: [{name: c, image: i}]\n";

    #[test]
    fn origins_name_file_lines_and_the_chart_template() {
        let m = read(
            &[Source {
                name: "out.yaml",
                text: HELM,
            }],
            "apps",
        )
        .unwrap();
        let sa = &m.origins[&("apps".into(), "ServiceAccount".into(), "app".into())];
        assert_eq!((sa.document, sa.line), (1, Some(6)));
        assert_eq!(sa.rendered_from.as_deref(), Some("app/templates/sa.yaml"));
        let d = &m.origins[&("shop".into(), "Deployment".into(), "app".into())];
        assert_eq!(
            (d.line, d.template_line, d.service_account_line),
            (Some(12), Some(16), Some(19))
        );
        assert_eq!(
            d.rendered_from.as_deref(),
            Some("app/templates/deploy.yaml")
        );
        assert_eq!(
            m.objects.service_accounts[0].metadata.namespace.as_deref(),
            Some("apps")
        );
    }

    fn source(text: &str) -> Result<Manifests, LoadError> {
        read(
            &[Source {
                name: "m.yaml",
                text,
            }],
            "default",
        )
    }

    #[test]
    fn what_is_not_a_manifest_is_named_with_its_place() {
        let arm = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\nid: /subscriptions/x\ntype: Microsoft.ManagedIdentity/userAssignedIdentities\nname: x\n";
        let e = source(arm).unwrap_err().to_string();
        assert!(e.starts_with("m.yaml:5"), "{e}");
        assert!(e.contains("document 2") && e.contains("--world"), "{e}");
        let widiag = "apiVersion: widiag.io/v1\nkind: WorldInfo\n";
        assert!(
            source(widiag)
                .unwrap_err()
                .to_string()
                .contains("WorldInfo is a widiag document")
        );
        let unnamed = "apiVersion: v1\nkind: Pod\nmetadata: {namespace: a}\n";
        assert!(
            source(unnamed)
                .unwrap_err()
                .to_string()
                .contains("Pod has no metadata.name")
        );
        let twice = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n";
        let e = source(twice).unwrap_err().to_string();
        assert!(
            e.contains("document 2, item 1") && e.contains("also defined in m.yaml document 1"),
            "{e}"
        );
        let bad_field =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: two}\n";
        let e = source(bad_field).unwrap_err().to_string();
        assert!(e.contains("m.yaml:4") && e.contains("spec.replicas"), "{e}");
    }

    #[test]
    fn applying_replaces_objects_and_drops_what_the_old_template_made() {
        let cluster = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: a, annotations: {old: x}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: a}\nspec: {selector: {}, template: {}}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: api-6b8f7c9d5, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: u}]}\nspec: {selector: {}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: api-6b8f7c9d5-x1, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-6b8f7c9d5, uid: u}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: api-gateway-5d4c3b2a1-y2, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-gateway-5d4c3b2a1, uid: u}]}\n---\napiVersion: v1\nkind: Event\nmetadata: {name: e1, namespace: a}\ninvolvedObject: {kind: ReplicaSet, name: api-7c9d5f4b8, namespace: a}\nreason: FailedCreate\n---\napiVersion: v1\nkind: Event\nmetadata: {name: e2, namespace: a}\ninvolvedObject: {kind: ReplicaSet, name: api-gateway-5d4c3b2a1, namespace: a}\nreason: FailedCreate\n";
        let mut world = parse::parse_str("w.yaml", cluster).unwrap();
        let m = read(
            &[Source {
                name: "m.yaml",
                text: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {selector: {}, template: {}}\n",
            }],
            "a",
        )
        .unwrap();
        apply(&mut world, &m);
        let k = &world.kube;
        assert_eq!(k.service_accounts.len(), 1);
        let kept = k.service_accounts[0].metadata.annotations.as_ref();
        assert_eq!(
            kept.and_then(|a| a.get("old")).map(String::as_str),
            Some("x"),
            "an annotation made outside the manifest survives the apply"
        );
        assert_eq!(k.deployments.len(), 1);
        assert!(
            k.replica_sets.is_empty(),
            "the old template's ReplicaSet goes"
        );
        let pods: Vec<_> = k
            .pods
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        assert_eq!(
            pods,
            ["api-gateway-5d4c3b2a1-y2"],
            "api-gateway's pod stays"
        );
        let events: Vec<_> = k
            .events
            .iter()
            .filter_map(|e| e.metadata.name.as_deref())
            .collect();
        assert_eq!(events, ["e2"]);
    }
}
