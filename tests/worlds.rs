//! Every shipped world: its findings asserted exactly, and its text and JSON output reviewed as
//! whole-report snapshots.

mod common;

use std::collections::BTreeSet;

use widiag::analysis::Catalog;
use widiag::output;

type Expect = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// (world, pod, verdict, every finding as (link, code) in chain order).
const EXPECTED: &[Expect] = &[
    (
        "access-mg-sibling",
        "default/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1102"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-rbac-group-reader",
        "default/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1102"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-deny-assignment",
        "default/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1116"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-blob-condition-allows",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-blob-condition-denies",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1108"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-blob-condition-path",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "unknown",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1115"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-blob-delegation-env-container",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1109"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-custom-role",
        "default/wi-kv-test",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-custom-role-masked",
        "default/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1102"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-custom-role-undefined",
        "default/wi-kv-test",
        "unknown",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1114"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-kv-firewall-closed",
        "default/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1117"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-kv-private-endpoint",
        "default/wi-kv-test",
        "warn",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1107"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-mg-inherited",
        "default/wi-kv-test",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-rbac-group",
        "default/wi-kv-test",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-kv-app-object-id",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1113"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-kv-compound-policy",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1112"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "access-storage-perimeter",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "unknown",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1118"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "federation-app-trusts-mi",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI908"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "identity-fic-region",
        "default/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("identity", "WI808"),
            ("federation", "WI901"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "identity-sp-disabled",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "fail",
        &[
            ("token", "WI600"),
            ("identity", "WI807"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "issuer-aks-rotated-key",
        "default/wi-kv-test",
        "fail",
        &[
            ("issuer", "WI703"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "binding-credential-deleted",
        "apps/bound",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI910"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "binding-missing",
        "apps/bound",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI909"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "binding-no-rbac",
        "apps/bound",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI911"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "binding-vnet-integration",
        "apps/bound",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI912"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "cluster-arc",
        "default/wi-kv-test",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "cluster-arc-no-oidc",
        "default/wi-kv-test",
        "fail",
        &[
            ("cluster", "WI102"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/cached-token",
        "fail",
        &[
            ("token", "WI601"),
            ("issuer", "WI703"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/case-subject",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI904"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/crowded",
        "warn",
        &[
            ("token", "WI600"),
            ("identity", "WI806"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/garbage",
        "fail",
        &[
            ("service-account", "WI305"),
            ("service-account", "WI306"),
            ("service-account", "WI307"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/hardcoded-5c7d9b8f6a-m4n7p",
        "fail",
        &[
            ("mutation", "WI503"),
            ("token", "WI600"),
            ("identity", "WI803"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/manual-path",
        "fail",
        &[
            ("mutation", "WI505"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/no-sa",
        "fail",
        &[
            ("service-account", "WI301"),
            ("mutation", "WI501"),
            ("token", "WI604"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/other-tenant",
        "fail",
        &[
            ("token", "WI600"),
            ("identity", "WI804"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/policy-vault",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1105"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/secret-env",
        "warn",
        &[
            ("mutation", "WI509"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/short-token",
        "fail",
        &[
            ("pod", "WI404"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/skip-all",
        "fail",
        &[
            ("mutation", "WI510"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/skip-comma",
        "warn",
        &[
            ("mutation", "WI508"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/static-agent",
        "fail",
        &[
            ("pod", "WI406"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/typo",
        "fail",
        &[
            ("service-account", "WI303"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/virtual",
        "fail",
        &[
            ("pod", "WI407"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/windows",
        "fail",
        &[
            ("pod", "WI408"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/wrong-audience",
        "fail",
        &[
            ("mutation", "WI506"),
            ("token", "WI600"),
            ("federation", "WI905"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "apps/wrong-identity",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI907"),
            ("federation", "WI901"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-cases",
        "kube-system/system-job",
        "fail",
        &[
            ("webhook", "WI206"),
            ("mutation", "WI501"),
            ("token", "WI604"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-no-oidc-no-webhook",
        "default/app",
        "fail",
        &[
            ("cluster", "WI102"),
            ("webhook", "WI201"),
            ("token", "WI604"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "edge-self-managed-china",
        "default/app",
        "fail",
        &[
            ("token", "WI600"),
            ("issuer", "WI702"),
            ("identity", "WI805"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-000-fic-issuer-slash",
        "default/workload-demo-pod",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI902"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-000-healthy",
        "default/workload-demo-pod",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-000-stale-client-id",
        "default/workload-demo-pod",
        "fail",
        &[
            ("mutation", "WI504"),
            ("token", "WI600"),
            ("identity", "WI803"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-001-container-scope",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1109"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-001-empty-client-id",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "fail",
        &[
            ("service-account", "WI304"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-001-healthy",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-001-label-on-deployment",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "fail",
        &[
            ("pod", "WI401"),
            ("token", "WI604"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-001-principal-id",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "fail",
        &[
            ("token", "WI600"),
            ("identity", "WI801"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-002-healthy",
        "default/yadaapi",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-002-label-on-sa",
        "default/yadaapi",
        "fail",
        &[
            ("pod", "WI401"),
            ("token", "WI604"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-002-pre-v1-webhook",
        "default/yadaapi",
        "warn",
        &[
            ("webhook", "WI204"),
            ("pod", "WI402"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-003-app-object-id",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "fail",
        &[
            ("token", "WI600"),
            ("identity", "WI801"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-003-as-written",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "fail",
        &[
            ("pod", "WI401"),
            ("pod", "WI409"),
            ("token", "WI604"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-003-duplicate-webhook",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "warn",
        &[
            ("webhook", "WI205"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-003-healthy",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-004-fic-namespace",
        "apps/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("federation", "WI903"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-004-healthy",
        "default/wi-kv-test",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "seed-004-rbac-vault",
        "default/wi-kv-test",
        "fail",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("access", "WI1102"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-aks-enforcer",
        "kube-system/wi-kv-test",
        "fail",
        &[
            ("webhook", "WI206"),
            ("mutation", "WI501"),
            ("token", "WI604"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-partial-capture",
        "apps/inventory-7c9d5f4b8-q2w3e",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v0.15",
        "apps/mesh-6d8f9c7b5-k2j4h",
        "warn",
        &[
            ("webhook", "WI204"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v0.15",
        "apps/opt-out",
        "warn",
        &[
            ("webhook", "WI204"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v0.15",
        "apps/sa-only",
        "warn",
        &[
            ("webhook", "WI204"),
            ("pod", "WI402"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.2-native-sidecar",
        "apps/meshed",
        "fail",
        &[
            ("webhook", "WI210"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.2-native-sidecar",
        "apps/payments-6c9f7d8b5-x2k4q",
        "fail",
        &[
            ("webhook", "WI210"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.3-native-sidecar",
        "apps/payments-6c9f7d8b5-x2k4q",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.5.1",
        "apps/empty-tenant",
        "fail",
        &[
            ("service-account", "WI306"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.5.1",
        "apps/expiry-fallback",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.5.1",
        "apps/healthy",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.5.1",
        "apps/port-unused",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.5.1",
        "apps/spaced-client",
        "fail",
        &[
            ("service-account", "WI305"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.5.1",
        "apps/spaced-expiry",
        "fail",
        &[
            ("pod", "WI404"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.6.0",
        "apps/orders-5f8d6c7b9-p4m2z",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.6.0-custom-endpoint",
        "apps/bound",
        "pass",
        &[("token", "WI600"), ("resource", "WI1201")],
    ),
    (
        "webhook-v1.6.0-custom-endpoint",
        "apps/bound-no-ca",
        "fail",
        &[
            ("mutation", "WI512"),
            ("token", "WI600"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.6.0-custom-endpoint",
        "apps/bound-no-proxy",
        "fail",
        &[
            ("mutation", "WI502"),
            ("token", "WI600"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-v1.6.0-custom-endpoint",
        "apps/plain",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "webhook-cannot-start",
        "apps/orders",
        "fail",
        &[
            ("webhook", "WI203"),
            ("webhook", "WI207"),
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "workload-blocked-deployment",
        "apps/checkout",
        "fail",
        &[
            ("webhook", "WI203"),
            ("webhook", "WI203"),
            ("token", "WI600"),
        ],
    ),
    (
        "workload-templates",
        "apps/ledger-0",
        "pass",
        &[
            ("token", "WI600"),
            ("exchange", "WI1001"),
            ("resource", "WI1201"),
        ],
    ),
    (
        "workload-templates",
        "apps/nightly",
        "fail",
        &[("pod", "WI401"), ("token", "WI604")],
    ),
    (
        "workload-templates",
        "apps/reports",
        "fail",
        &[("pod", "WI404"), ("token", "WI600")],
    ),
];

#[test]
fn every_world_yields_exactly_the_expected_findings() {
    let mut seen = BTreeSet::new();
    for (name, path) in common::worlds() {
        let report = common::analyze(&common::load(&path));
        assert!(!report.pods.is_empty(), "{name}: no pod analysed");
        for pod in &report.pods {
            let id = pod.pod.to_string();
            let expected = EXPECTED
                .iter()
                .find(|(w, p, ..)| *w == name && *p == id)
                .unwrap_or_else(|| panic!("{name}: pod {id} is not in EXPECTED"));
            let got: Vec<(&str, &str)> = pod
                .links
                .iter()
                .flat_map(|l| l.findings.iter().map(move |f| (l.link.name(), &*f.code)))
                .collect();
            assert_eq!(got, expected.3, "{name} {id}: findings");
            assert_eq!(pod.verdict().name(), expected.2, "{name} {id}: verdict");
            seen.insert((name.clone(), id));
        }
    }
    for (w, p, ..) in EXPECTED {
        assert!(
            seen.contains(&(w.to_string(), p.to_string())),
            "{w} {p} expected but not analysed"
        );
    }
}

#[test]
fn every_seed_has_a_healthy_world_and_at_least_two_faulted_ones() {
    let worlds: Vec<String> = common::worlds().into_iter().map(|(n, _)| n).collect();
    for seed in ["seed-000", "seed-001", "seed-002", "seed-003", "seed-004"] {
        let healthy = format!("{seed}-healthy");
        assert!(worlds.contains(&healthy), "{healthy} missing");
        let verdict = EXPECTED.iter().find(|e| e.0 == healthy).map(|e| e.2);
        assert_eq!(verdict, Some("pass"), "{healthy} must pass");
        let faulted = EXPECTED
            .iter()
            .filter(|e| e.0.starts_with(seed) && e.0 != healthy && e.2 != "pass")
            .count();
        assert!(faulted >= 2, "{seed}: {faulted} faulted worlds");
    }
}

/// The failure catalogue entries the core issue requires to be detected from objects alone.
#[test]
fn required_failure_catalogue_entries_are_detected_by_some_world() {
    let catalog = Catalog::builtin();
    let detected: BTreeSet<&str> = EXPECTED
        .iter()
        .flat_map(|e| e.3.iter())
        .filter_map(|(_, code)| catalog.get(code))
        .filter(|entry| entry.severity > widiag::analysis::Severity::Info)
        .map(|entry| entry.reference.as_str())
        .collect();
    let required = [
        "A1", "A2", "A5", "B1", "B3", "B4", "B6", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8",
        "C9", "D2", "D4", "D5", "E1", "E2", "E3", "E4", "E6", "F1", "F2", "G1", "G2", "G5",
    ];
    // A2 (issuer changed) is the same comparison as E1 (WI902); the seed world covers both.
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| {
            let covered = detected.contains(r) || (*r == "A2" && detected.contains("E1"));
            !covered
        })
        .collect();
    assert!(missing.is_empty(), "no world detects {missing:?}");
}

#[test]
fn text_reports_match_snapshots() {
    for (name, path) in common::worlds() {
        let report = common::analyze(&common::load(&path));
        let text = output::text::render(&report, &output::text::Palette::new(false));
        insta::assert_snapshot!(format!("text-{name}"), text);
    }
}

#[test]
fn json_reports_match_snapshots() {
    for (name, path) in common::worlds() {
        let report = common::analyze(&common::load(&path));
        let json = output::json::render(&report);
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(value["schema"], "widiag.io/check/v1");
        for pod in value["pods"].as_array().unwrap() {
            for link in pod["links"].as_array().unwrap() {
                for key in ["link", "status", "code", "message", "evidence", "fix"] {
                    assert!(link.get(key).is_some(), "{name}: link without {key}");
                }
            }
        }
        insta::assert_snapshot!(format!("json-{name}"), json);
    }
}

/// Codes are raised as `analysis::codes::Code`, generated from the catalogue, so a code the
/// catalogue lacks does not compile; this keeps code strings from coming back beside it.
#[test]
fn codes_are_raised_by_type_not_by_string() {
    let mut strings = Vec::new();
    for entry in common::rust_files(&common::root().join("src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        // Unit tests may name codes that must not exist.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, _) in text.match_indices("\"WI") {
            if text[i + 3..].starts_with(|c: char| c.is_ascii_digit()) {
                strings.push(format!("{}: {}", entry.display(), &text[i..i + 7]));
            }
        }
    }
    assert!(strings.is_empty(), "{strings:?}");
}

/// Every `{name}` a fix template uses is filled where the finding is raised: the placeholders
/// left in any fix of any shipped world (or the hostile one) are only those the user is meant
/// to supply (written in the catalogue), widiag's own named ones, and values refused by their
/// field's grammar. (WI506 once shipped `<volume>`, approved by a snapshot.)
#[test]
fn no_fix_leaves_a_placeholder_its_raise_site_should_fill() {
    const USER_FILLS: &[&str] = &[
        "<public-host>",
        "<cluster egress IP>",
        "<new identity name>",
        "<supported region>",
        "<binding name>",
        "<vault>",
        "<supported version>",
        "<serviceaccount>",
        "<namespace>",
        "<label the selector needs>",
        // A bare pod or a Job is created again from the user's own manifest (issue 22): the live
        // object still holds what the webhook injected from the old values.
        "<manifest file of the pod>",
        "<manifest file of the job>",
        // WI912: the pod leaves the identity binding.
        "<manifest file of the pod, without azure.workload.identity/use-identity-binding>",
        "<manifest file of the job, without azure.workload.identity/use-identity-binding>",
    ];
    // Where nothing names the identity yet (the ServiceAccount is missing or unannotated), its
    // client ID is the user's to supply.
    const USER_FILLS_FOR: &[(&str, &str)] = &[
        ("WI301", "<client-id>"),
        ("WI302", "<client-id>"),
        ("WI1001", "<client-id>"),
        // The perimeter is not read (that is what WI1118 says), so it cannot be named.
        ("WI1118", "<perimeter>"),
        ("WI1118", "<profile>"),
        ("WI1118", "<perimeter resource group>"),
        // An application cannot be bound: which identity to bind is the user's choice.
        ("WI909", "<managed identity resource ID>"),
    ];
    let mut worlds: Vec<std::path::PathBuf> =
        common::worlds().into_iter().map(|(_, p)| p).collect();
    worlds.push(common::root().join("tests/worlds/adversarial.yaml"));
    let mut unfilled = std::collections::BTreeSet::new();
    let mut seen = 0;
    for path in worlds {
        let report = common::analyze(&common::load(&path));
        for f in report
            .pods
            .iter()
            .flat_map(|p| &p.links)
            .flat_map(|l| &l.findings)
        {
            let Some(fix) = &f.fix else { continue };
            seen += 1;
            for (i, _) in fix
                .match_indices('<')
                .filter(|(i, _)| !fix[i + 1..].starts_with('('))
            {
                let hole = &fix[i..=i + fix[i..].find('>').unwrap_or(0)];
                let refused = hole.contains(": the value found is not ");
                let theirs = USER_FILLS_FOR.contains(&(&*f.code, hole));
                if !USER_FILLS.contains(&hole) && !refused && !theirs {
                    unfilled.insert(format!("{} {hole}", f.code));
                }
            }
        }
    }
    assert!(seen > 100, "{seen} fixes");
    assert!(
        unfilled.is_empty(),
        "placeholders left unfilled: {unfilled:#?}"
    );
}

/// Each link says what its verdict rests on: in edge-cases only `apps/cached-token` had its
/// token captured, so its token and federation links are observed while another pod's are
/// predicted; the cluster's issuer documents were fetched, so every pod's issuer link is
/// observed; links judged from objects say so, and the exchange and resource, never probed
/// offline, are predicted.
#[test]
fn each_link_says_whether_it_was_observed_or_predicted() {
    let w = common::load(&common::root().join("assets/worlds/edge-cases.yaml"));
    let json: serde_json::Value =
        serde_json::from_str(&output::json::render(&common::analyze(&w))).unwrap();
    let basis = |pod: &str, link: &str| -> String {
        common::json_link(&json, pod, link)["basis"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for link in ["token", "federation"] {
        assert_eq!(basis("apps/cached-token", link), "observed", "{link}");
        assert_eq!(basis("apps/typo", link), "predicted", "{link}");
    }
    assert_eq!(basis("apps/typo", "issuer"), "observed");
    let healthy = common::load(&common::root().join("assets/worlds/seed-000-healthy.yaml"));
    let report = common::analyze(&healthy);
    let issuer = report.pods[0]
        .links
        .iter()
        .find(|l| l.link == widiag::analysis::Link::Issuer)
        .unwrap();
    assert_eq!(
        issuer.basis.name(),
        "predicted",
        "no documents fetched offline"
    );
    for link in ["exchange", "resource"] {
        assert_eq!(basis("apps/cached-token", link), "predicted", "{link}");
    }
    for link in [
        "cluster",
        "webhook",
        "service-account",
        "pod",
        "mutation",
        "identity",
        "access",
    ] {
        assert_eq!(basis("apps/typo", link), "objects", "{link}");
    }
}
