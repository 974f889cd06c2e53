//! The Kubernetes Python client, a client nobody here wrote, against the lab's API server,
//! unmodified, from the kubeconfig `widiag lab` writes: lists with label and field selectors, a
//! watch that resumes from a list's resourceVersion, a TokenRequest, and a
//! SelfSubjectRulesReview answered from the user's rules.
//!
//! scripts/test installs the pinned client; these tests are ignored otherwise.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

const SCRIPT: &str = r#"
import sys
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
def names(**kw):
    return ",".join(sorted(p.metadata.name for p in v1.list_pod_for_all_namespaces(**kw).items))
print("USED", names(label_selector="azure.workload.identity/use=true"))
print("NOT-USED", names(label_selector="azure.workload.identity/use!=true"))
print("SET", names(label_selector="azure.workload.identity/use in (true,false),!nosuchlabel"))
print("FIELD", names(field_selector="metadata.namespace=apps,status.phase=Running"))
tr = v1.create_namespaced_service_account_token("reports", "apps", client.AuthenticationV1TokenRequest(
    spec=client.V1TokenRequestSpec(audiences=["api://AzureADTokenExchange"], expiration_seconds=3600)))
print("TOKEN", tr.status.token.count("."), tr.status.expiration_timestamp is not None)
try:  # the user may mint tokens only in apps: kube-apiserver's 403, as the client raises it
    v1.create_namespaced_service_account_token("default", "default", client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=["api://AzureADTokenExchange"])))
    print("DENIED no")
except client.exceptions.ApiException as e:
    print("DENIED", e.status, e.reason)
rules = client.AuthorizationV1Api().create_self_subject_rules_review(
    client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace="apps")))
print("RULES", sorted({v for r in rules.status.resource_rules for v in r.verbs}))
rv = v1.list_namespaced_pod("apps").metadata.resource_version
print("LISTED", flush=True)
sys.stdin.readline()  # the test changes a pod now
for event in watch.Watch().stream(v1.list_namespaced_pod, "apps", resource_version=rv, timeout_seconds=10):
    print("EVENT", event["type"], event["object"].metadata.name, event["object"].metadata.labels.get("changed"))
    break
# Filtered watches: the pod entered "changed=yes" (ADDED for that watch) and never "changed=no".
for sel in ("changed=yes", "changed=no"):
    seen = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
        v1.list_namespaced_pod, "apps", resource_version=rv, label_selector=sel, timeout_seconds=1)]
    print("SELECTED", sel, seen)
"#;

/// What the lab's world says: the pods of `workload-templates` by label, for comparing.
fn pod_names(want: impl Fn(&k8s_openapi::api::core::v1::Pod) -> bool) -> String {
    let world = common::load(&common::root().join("assets/worlds/workload-templates.yaml"));
    let mut v: Vec<String> = world
        .kube
        .pods
        .iter()
        .filter(|p| want(p))
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    v.sort();
    v.join(",")
}

fn label(p: &k8s_openapi::api::core::v1::Pod) -> Option<String> {
    p.metadata
        .labels
        .as_ref()?
        .get("azure.workload.identity/use")
        .cloned()
}

#[test]
#[ignore = "needs the Kubernetes Python client: ./scripts/test installs it and runs ignored tests"]
fn the_python_client_lists_watches_mints_and_reviews() {
    let lab = common::lab_of(
        "workload-templates",
        "kubeUsers:\n- name: support\n  allow:\n  - verbs: [get, list, watch]\n    resources: ['*']\n  - verbs: [create]\n    resources: [serviceaccounts/token]\n    namespaces: [apps]\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, lab.kubeconfig_as("support")).unwrap();
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 || line.trim() == "LISTED" {
            break;
        }
        lines.push(line.trim().to_string());
    }
    // A change after the list: the watch from the list's resourceVersion must carry it.
    let world = common::load(&common::root().join("assets/worlds/workload-templates.yaml"));
    let pod = world
        .kube
        .pods
        .iter()
        .find(|p| p.metadata.namespace.as_deref() == Some("apps"))
        .unwrap();
    let mut changed = serde_json::to_value(pod).unwrap();
    changed["apiVersion"] = "v1".into();
    changed["kind"] = "Pod".into();
    changed["metadata"]["labels"]["changed"] = "yes".into();
    assert!(lab.apply(changed));
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    lines.extend(String::from_utf8_lossy(&rest).lines().map(str::to_string));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{lines:?}\n{stderr}");
    let used = pod_names(|p| label(p).as_deref() == Some("true"));
    let name = pod.metadata.name.as_deref().unwrap();
    let expected = [
        format!("USED {used}"),
        format!(
            "NOT-USED {}",
            pod_names(|p| label(p).as_deref() != Some("true"))
        ),
        format!("SET {}", pod_names(|p| label(p).is_some())),
        format!(
            "FIELD {}",
            pod_names(|p| p.metadata.namespace.as_deref() == Some("apps")
                && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        ),
        "TOKEN 2 True".to_string(),
        "DENIED 403 Forbidden".to_string(),
        "RULES ['create', 'get', 'list', 'watch']".to_string(),
        format!("EVENT MODIFIED {name} yes"),
        format!("SELECTED changed=yes [('ADDED', '{name}')]"),
        "SELECTED changed=no []".to_string(),
    ];
    assert_eq!(lines, expected, "{stderr}");
    assert!(!used.is_empty());
}
