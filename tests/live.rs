//! `widiag check` reading a live cluster and Azure: the real binary, through kube-rs, reqwest
//! and azure_identity, against the lab serving each seed world (only endpoints and CA differ
//! from a real cluster and tenant).

mod common;

use std::process::Output;

use serde_json::Value;
use widiag::lab::{LabHandle, Logged};

struct Run {
    report: Value,
    output: String,
    requests: Vec<Logged>,
    lab: LabHandle,
}

/// `widiag check` with the kubeconfig, proxy, CA and reader credential the lab writes.
fn live_check(world: &str, extra: &[&str]) -> Run {
    let lab = common::spawn_lab(world);
    let kubeconfig = lab.kubeconfig();
    check_against(lab, world, &kubeconfig, extra)
}

fn check_against(lab: LabHandle, world: &str, kubeconfig_text: &str, extra: &[&str]) -> Run {
    let mut args = vec!["check", "-o", "json", "--transcript", "--fail-on", "never"];
    args.extend_from_slice(extra);
    let out = widiag_against(&lab, kubeconfig_text, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{world}: {stderr}");
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{world}: {e}\n{stdout}"));
    Run {
        report,
        output: format!("{stdout}\n{stderr}"),
        requests: lab.requests(),
        lab,
    }
}

/// The real binary with the kubeconfig, proxy, CA and reader credential the lab writes.
fn widiag_against(lab: &LabHandle, kubeconfig_text: &str, args: &[&str]) -> Output {
    common::widiag_against(lab, kubeconfig_text, args, &[])
}

/// `status` or `status(CODE,...)` of one link of one pod.
fn link(report: &Value, pod: &str, name: &str) -> String {
    let l = common::json_link(report, pod, name);
    let codes: Vec<&str> = l["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["code"].as_str()).collect())
        .unwrap_or_default();
    let status = l["status"].as_str().unwrap();
    if codes.is_empty() {
        status.to_string()
    } else {
        format!("{status}({})", codes.join(","))
    }
}

/// (world, pod, exchange, resource): what Entra and the data plane answered, per seed world.
const EXPECTED: &[(&str, &str, &str, &str)] = &[
    (
        "seed-000-healthy",
        "default/workload-demo-pod",
        "pass",
        "skip",
    ),
    (
        "seed-000-fic-issuer-slash",
        "default/workload-demo-pod",
        "fail(WI1005)",
        "skip",
    ),
    (
        "seed-000-stale-client-id",
        "default/workload-demo-pod",
        "fail(WI1007)",
        "skip",
    ),
    (
        "seed-001-healthy",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "pass",
        "skip",
    ),
    (
        "seed-001-empty-client-id",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "unknown(WI1012)",
        "skip",
    ),
    (
        "seed-001-principal-id",
        "default/cats-api-deployment-6d9c7b5f4d-x2k9p",
        "fail(WI1007)",
        "skip",
    ),
    ("seed-002-healthy", "default/yadaapi", "pass", "pass"),
    ("seed-002-pre-v1-webhook", "default/yadaapi", "pass", "pass"),
    (
        "seed-003-healthy",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "pass",
        "skip",
    ),
    (
        "seed-003-app-object-id",
        "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t",
        "fail(WI1007)",
        "skip",
    ),
    ("seed-004-healthy", "default/wi-kv-test", "pass", "pass"),
    (
        "seed-004-fic-namespace",
        "apps/wi-kv-test",
        "fail(WI1005)",
        "skip",
    ),
    (
        "seed-004-rbac-vault",
        "default/wi-kv-test",
        "pass",
        "fail(WI1202)",
    ),
];

#[test]
fn exchange_and_resource_links_follow_what_entra_and_key_vault_answer() {
    let mut mismatches = Vec::new();
    for (world, pod, exchange, resource) in EXPECTED {
        let run = live_check(world, &[]);
        let got = (
            link(&run.report, pod, "exchange"),
            link(&run.report, pod, "resource"),
        );
        if got != (exchange.to_string(), resource.to_string()) {
            mismatches.push(format!(
                "{world} {pod}: expected ({exchange}, {resource}), got {got:?}"
            ));
        }
        // The token was taken live (unless there is no client ID to take it for) and judged.
        let token = if *exchange == "unknown(WI1012)" {
            "pass(WI600)"
        } else {
            "pass"
        };
        assert_eq!(link(&run.report, pod, "token"), token, "{world}");
        assert!(
            run.output.contains("(token exchange)") || *exchange == "unknown(WI1012)",
            "{world}: transcript names the exchange"
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn entra_error_details_survive_for_support() {
    let run = live_check("seed-000-fic-issuer-slash", &[]);
    let pod = &run.report["pods"][0];
    let exchange = pod["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == "exchange")
        .unwrap();
    let evidence: Vec<&str> = exchange["findings"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["label"].as_str())
        .collect();
    for label in ["status", "error", "trace_id", "correlation_id", "timestamp"] {
        assert!(
            evidence.contains(&label),
            "{label} missing from {evidence:?}"
        );
    }
    assert!(
        exchange["findings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700211: No matching federated identity record found for presented assertion issuer")
    );
}

#[test]
fn the_only_write_is_the_token_request() {
    let run = live_check("seed-004-healthy", &[]);
    let writes: Vec<&Logged> = run.requests.iter().filter(|r| r.method != "GET").collect();
    assert!(!writes.is_empty());
    for w in &writes {
        let token_request = w.method == "POST"
            && w.path.starts_with("/api/v1/namespaces/")
            && w.path.ends_with("/token")
            && w.path.contains("/serviceaccounts/");
        let exchange = w.method == "POST" && w.host == "login.microsoftonline.com";
        assert!(token_request || exchange, "unexpected write {w:?}");
    }
    // ARM and Graph were read with the reader's bearer, paging included.
    assert!(
        run.requests
            .iter()
            .any(|r| r.host == "management.azure.com" && r.status == 200)
    );
    assert!(
        run.requests
            .iter()
            .any(|r| r.host.ends_with(".vault.azure.net"))
    );
}

#[test]
fn no_token_signature_access_token_or_secret_in_any_output() {
    for world in [
        "seed-004-healthy",
        "seed-004-rbac-vault",
        "seed-003-healthy",
    ] {
        let run = live_check(world, &[]);
        assert_no_secret(world, "check -o json --transcript", &run.output, &run.lab);
        let kubeconfig = run.lab.kubeconfig();
        // Every other form, the support bundle included, taken live with the probes.
        let forms: [&[&str]; 7] = [
            &["check", "-o", "junit", "--fail-on", "never"],
            &["check", "-o", "sarif", "--fail-on", "never"],
            &[
                "check",
                "-o",
                "text",
                "--color",
                "never",
                "--fail-on",
                "never",
            ],
            &["report", "-A", "--out", "-"],
            &["report", "-A", "--out", "-", "--redact-names"],
            &["report", "-A", "--out", "-", "-f", "markdown"],
            &["report", "-A", "--out", "-", "-f", "html"],
        ];
        // The log file, written by a run with every probe.
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("widiag.log");
        let logged = widiag_against(
            &run.lab,
            &kubeconfig,
            &[
                "check",
                "--fail-on",
                "never",
                "-o",
                "json",
                "--log",
                log.to_str().unwrap(),
            ],
        );
        assert!(logged.status.success());
        let log_text = std::fs::read_to_string(&log).unwrap();
        assert!(
            log_text.contains("(token request)") && log_text.contains("(token exchange)"),
            "{log_text}"
        );
        assert_no_secret(world, "--log", &log_text, &run.lab);
        for args in forms {
            let out = widiag_against(&run.lab, &kubeconfig, args);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{world} {args:?}: {text}");
            assert!(
                text.len() > 250,
                "{world} {args:?}: too short to mean anything: {text}"
            );
            assert_no_secret(world, &args.join(" "), &text, &run.lab);
        }
    }
}

fn assert_no_secret(world: &str, form: &str, text: &str, lab: &LabHandle) {
    let jwt = regex_like_jwt(text);
    assert!(
        jwt.is_none(),
        "{world} {form}: a JWT in the output: {jwt:?}"
    );
    assert!(
        !text.contains("lab-value-of-"),
        "{world} {form}: a secret value"
    );
    assert!(
        !text.contains(&lab.reader.secret),
        "{world} {form}: the reader's secret"
    );
}

/// A bundle taken live replays offline to the chains the live check saw, the exchange and
/// resource links (which only live probes can decide) included.
#[test]
fn a_live_bundle_replays_offline_to_the_same_chains() {
    for world in [
        "seed-004-healthy",
        "seed-004-rbac-vault",
        "seed-001-healthy",
    ] {
        let run = live_check(world, &[]);
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.yaml");
        let out = widiag_against(
            &run.lab,
            &run.lab.kubeconfig(),
            &["report", "-A", "--out", bundle.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replay = common::bin()
            .args(["check", "-o", "json", "--fail-on", "never", "--world"])
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(
            replay.status.success(),
            "{}",
            String::from_utf8_lossy(&replay.stderr)
        );
        let replayed: Value = serde_json::from_slice(&replay.stdout).unwrap();
        let pods = run.report["pods"].as_array().unwrap();
        assert!(!pods.is_empty());
        for p in pods {
            let name = format!(
                "{}/{}",
                p["namespace"].as_str().unwrap(),
                p["name"].as_str().unwrap()
            );
            for l in ["federation", "exchange", "access", "resource"] {
                let live = link(&run.report, &name, l);
                if l == "exchange" {
                    assert!(
                        !live.starts_with("skip"),
                        "{world} {name}: the exchange ran live"
                    );
                }
                assert_eq!(link(&replayed, &name, l), live, "{world} {name} {l}");
            }
        }
    }
}

/// Three base64url segments of which the first decodes to a JSON header: a compact JWT.
fn regex_like_jwt(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3 && parts[0].starts_with("eyJ") && parts.iter().all(|p| p.len() > 8)
        })
        .map(str::to_string)
}

#[test]
fn offline_flag_reads_objects_but_makes_no_exchange() {
    let run = live_check("seed-004-healthy", &["--offline"]);
    assert_eq!(
        link(&run.report, "default/wi-kv-test", "exchange"),
        "skip(WI1001)"
    );
    // Only the reader's own sign-ins (azure_identity, one for ARM and one for Graph's group
    // memberships) are not GETs: no TokenRequest, no exchange.
    let posts: Vec<&Logged> = run.requests.iter().filter(|r| r.method != "GET").collect();
    assert!(!posts.is_empty() && posts.len() <= 2, "{posts:?}");
    assert!(
        posts
            .iter()
            .all(|p| p.user_agent.starts_with("azsdk-rust-identity/")
                && p.host == "login.microsoftonline.com"),
        "{posts:?}"
    );
}

#[test]
fn unreachable_cluster_is_a_clear_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {{}}\n"),
    )
    .unwrap();
    let out = common::bin()
        .args([
            "check",
            "--timeout",
            "3",
            "--azure-auth",
            "none",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the cluster"), "{err}");
}

#[test]
fn a_user_who_may_only_list_pods_in_one_namespace_gets_gaps_not_a_crash() {
    let path = common::root().join("assets/worlds/seed-004-healthy.yaml");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n---\napiVersion: widiag.io/v1\nkind: LabBehaviour\nkubeUsers:\n- name: pod-lister\n  allow:\n  - verbs: [list, get]\n    resources: [pods]\n    namespaces: [default]\n";
    let world = widiag::world::parse::parse_str("limited.yaml", &text).unwrap();
    let lab = LabHandle::spawn(world).unwrap();
    let kubeconfig = lab.kubeconfig_as("pod-lister");
    let run = check_against(lab, "limited", &kubeconfig, &["-n", "default"]);
    let pod = "default/wi-kv-test";
    // The pod is still analysed; what could not be read is unknown, with the permission needed.
    assert_eq!(link(&run.report, pod, "service-account"), "unknown(WI308)");
    assert_eq!(link(&run.report, pod, "exchange"), "unknown(WI1012)");
    let gaps: Vec<String> = run.report["notRead"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["needed"].as_str().unwrap().to_string())
        .collect();
    for needed in [
        "list serviceaccounts in namespace default",
        "list mutatingwebhookconfigurations (cluster-wide)",
        "create serviceaccounts/token for wi-demo-sa in namespace default",
    ] {
        assert!(gaps.iter().any(|g| g == needed), "{needed} not in {gaps:?}");
    }
    // The lab answered those with real 403s, and the allowed pod list succeeded.
    assert!(
        run.requests
            .iter()
            .any(|r| r.path == "/api/v1/namespaces/default/pods" && r.status == 200)
    );
    assert!(
        run.requests
            .iter()
            .any(|r| r.path == "/api/v1/namespaces/default/serviceaccounts" && r.status == 403)
    );
}

#[test]
fn a_bare_pod_name_is_looked_up_in_the_context_namespace() {
    let lab = common::spawn_lab("seed-004-fic-namespace");
    let kubeconfig = lab
        .kubeconfig()
        .replace("namespace: default", "namespace: apps");
    let run = check_against(
        lab,
        "seed-004-fic-namespace",
        &kubeconfig,
        &["--pod", "wi-kv-test"],
    );
    assert_eq!(run.report["pods"].as_array().unwrap().len(), 1);
    assert_eq!(
        link(&run.report, "apps/wi-kv-test", "exchange"),
        "fail(WI1005)"
    );
}

fn exchange_evidence(report: &Value) -> Vec<(String, String)> {
    let link = report["pods"][0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == "exchange")
        .unwrap()
        .clone();
    link["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            link["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|f| f["evidence"].as_array().into_iter().flatten()),
        )
        .map(|e| {
            (
                e["label"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_throttled_exchange_is_retried_and_then_succeeds() {
    let lab = common::lab_with("entra:\n  failFirst: 1\n  status: 429\n  retryAfter: 1\n");
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "throttled-once", &kubeconfig, &[]);
    assert_eq!(link(&run.report, "default/wi-kv-test", "exchange"), "pass");
    assert!(exchange_evidence(&run.report).contains(&("attempts".into(), "2".into())));
    let token_posts = run
        .requests
        .iter()
        .filter(|r| r.host == "login.microsoftonline.com" && r.status == 429)
        .count();
    assert_eq!(token_posts, 1);
}

/// Every link of the pod, as `link=status(CODES)`, for comparing whole chains.
fn chain(report: &Value, pod: &str) -> Vec<String> {
    [
        "cluster",
        "webhook",
        "service-account",
        "pod",
        "mutation",
        "token",
        "issuer",
        "identity",
        "federation",
        "exchange",
        "access",
        "resource",
    ]
    .iter()
    .map(|l| format!("{l}={}", link(report, pod, l)))
    .collect()
}

/// seed-004-healthy checked with `behaviour` in the lab: the pod's whole chain and what was not
/// read are those of a quiet lab.
fn same_as_quiet(behaviour: &str, name: &str) -> Run {
    let quiet = live_check("seed-004-healthy", &[]);
    let lab = common::lab_with(behaviour);
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, name, &kubeconfig, &[]);
    let pod = "default/wi-kv-test";
    assert_eq!(chain(&run.report, pod), chain(&quiet.report, pod));
    assert_eq!(run.report["notRead"], quiet.report["notRead"]);
    run
}

/// ARM and Graph throttle a fleet's reads: widiag asks again after Retry-After and learns the
/// same as from a quiet control plane; the lab saw the 429s.
#[test]
fn throttled_arm_and_graph_reads_are_retried_to_the_same_answer() {
    let run = same_as_quiet(
        "azureReads:\n  failFirst: 2\n  status: 429\n  retryAfter: 1\n",
        "arm-throttled",
    );
    let throttled: Vec<&str> = run
        .requests
        .iter()
        .filter(|r| r.status == 429)
        .map(|r| r.host.as_str())
        .collect();
    assert_eq!(throttled.len(), 2, "{throttled:?}");
    assert!(
        throttled
            .iter()
            .all(|h| *h == "management.azure.com" || *h == "graph.microsoft.com")
    );
}

/// A control plane that keeps failing: each read gives up after its bounded attempts, what it
/// could not read is a gap that says so, and the pod's identity is unknown rather than wrong.
#[test]
fn arm_and_graph_that_keep_failing_are_gaps_after_bounded_attempts() {
    let lab =
        common::lab_with("azureReads:\n  failFirst: 100000\n  status: 503\n  retryAfter: 1\n");
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "arm-down", &kubeconfig, &[]);
    let gaps: Vec<(&str, &str)> = run.report["notRead"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["resource"].as_str().unwrap(),
                g["error"].as_str().unwrap(),
            )
        })
        .collect();
    let resources: Vec<&str> = gaps.iter().map(|g| g.0).collect();
    assert_eq!(
        resources,
        [
            "list subscriptions",
            "find application",
            "find service principal"
        ]
    );
    for (resource, error) in &gaps {
        assert!(
            error.starts_with("503 ") && error.ends_with("(after 3 attempts; Retry-After 1s)"),
            "{resource}: {error}"
        );
    }
    // Three attempts per read, no more: one ARM read and two Graph reads.
    let failed = |host: &str| {
        run.requests
            .iter()
            .filter(|r| r.host == host && r.status == 503)
            .count()
    };
    assert_eq!(failed("management.azure.com"), 3);
    assert_eq!(failed("graph.microsoft.com"), 6);
    let pod = "default/wi-kv-test";
    assert_eq!(link(&run.report, pod, "identity"), "unknown(WI802)");
    // The live exchange does not depend on ARM or Graph, and still proves the federation works.
    assert_eq!(link(&run.report, pod, "exchange"), "pass");
}

/// API Priority and Fairness keeps turning every request away (plain-text 429, Retry-After 60):
/// widiag asks each list three times, then says the pods could not be read and why, instead of
/// waiting out Retry-After until its timeout.
#[test]
fn a_kubernetes_api_that_keeps_throttling_is_named_after_bounded_attempts() {
    let lab =
        common::lab_with("kubeReads:\n  failFirst: 100000\n  status: 429\n  retryAfter: 60\n");
    let kubeconfig = lab.kubeconfig();
    let out = widiag_against(
        &lab,
        &kubeconfig,
        &[
            "check",
            "-A",
            "--offline",
            "--azure-auth",
            "none",
            "--timeout",
            "30",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "cannot read the pods: 429 Too Many Requests: Too many requests, please try again later. \
             (after 3 attempts)"
        ),
        "{stderr}"
    );
    let pod_lists = lab
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/pods" && r.status == 429)
        .count();
    assert_eq!(pod_lists, 3);
}

/// The API server's priority and fairness turns the first lists away with 429 and Retry-After:
/// widiag asks again and the report is the one a quiet server gives.
#[test]
fn throttled_kubernetes_lists_are_retried_to_the_same_answer() {
    let run = same_as_quiet(
        "kubeReads:\n  failFirst: 3\n  status: 429\n  retryAfter: 1\n",
        "kube-throttled",
    );
    let throttled = run
        .requests
        .iter()
        .filter(|r| r.status == 429 && r.path.starts_with("/api"))
        .count();
    assert_eq!(throttled, 3);
}

#[test]
fn an_entra_that_keeps_failing_is_unknown_with_retry_after_not_a_hang() {
    let lab = common::lab_with("entra:\n  failFirst: 100\n  status: 503\n  retryAfter: 1\n");
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "entra-down", &kubeconfig, &[]);
    assert_eq!(
        link(&run.report, "default/wi-kv-test", "exchange"),
        "unknown(WI1010)"
    );
    let ev = exchange_evidence(&run.report);
    assert!(ev.contains(&("attempts".into(), "3".into())), "{ev:?}");
    assert!(ev.contains(&("Retry-After".into(), "1s".into())), "{ev:?}");
    assert!(ev.iter().any(|(l, _)| l == "trace_id"), "{ev:?}");
}

/// Four contexts: labs at `a` and `b`, a lab at `c` that refuses user `outsider`
/// everything, and a cluster nobody answers for.
fn fleet_kubeconfig(a: &str, b: &str, c: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n\
         - name: a\n  cluster:\n    server: {a}\n\
         - name: b\n  cluster:\n    server: {b}\n\
         - name: c\n  cluster:\n    server: {c}\n\
         - name: dead\n  cluster:\n    server: http://127.0.0.1:1\n\
         contexts:\n\
         - name: prod-a\n  context:\n    cluster: a\n    user: u\n\
         - name: prod-b\n  context:\n    cluster: b\n    user: u\n\
         - name: locked\n  context:\n    cluster: c\n    user: outsider\n\
         - name: gone\n  context:\n    cluster: dead\n    user: u\n\
         current-context: prod-a\nusers:\n- name: u\n  user: {{}}\n\
         - name: outsider\n  user:\n    token: outsider\n"
    )
}

/// `widiag check --all-contexts` over the kubeconfig at `path`, offline and without Azure.
fn check_fleet(path: &std::path::Path, extra: &[&str]) -> std::process::Output {
    common::bin()
        .args([
            "check",
            "--all-contexts",
            "--offline",
            "--azure-auth",
            "none",
            "--timeout",
            "5",
        ])
        .args(extra)
        .arg("--kubeconfig")
        .arg(path)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap()
}

/// `check --all-contexts`: two clusters read concurrently and one that is down, in one fleet
/// report; the dead one is reported with why, not fatal.
#[test]
fn a_fleet_of_clusters_is_one_report_and_a_dead_cluster_is_not_fatal() {
    let a = common::spawn_lab("seed-004-healthy");
    let b = common::spawn_lab("seed-001-label-on-deployment");
    // A cluster whose API server refuses this user everything (real 403s from the lab).
    let c = common::lab_with("kubeUsers:\n- name: outsider\n  allow: []\n");
    let kubeconfig = fleet_kubeconfig(&a.kube_url(), &b.kube_url(), &c.kube_url());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.kubeconfig");
    std::fs::write(&path, &kubeconfig).unwrap();
    let run = |extra: &[&str]| check_fleet(&path, extra);
    let out = run(&["-o", "json", "--fail-on", "unknown"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The dead cluster is unknown, and unknown was asked to fail the run.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let fleet: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fleet["schema"], "widiag.io/fleet/v1");
    let clusters = fleet["clusters"].as_array().unwrap();
    let ctx: Vec<&str> = clusters
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    assert_eq!(ctx, ["prod-a", "prod-b", "locked", "gone"]);
    assert_eq!(clusters[0]["report"]["pods"][0]["name"], "wi-kv-test");
    // Azure is not read here (--azure-auth none), so the identity is unknown, nothing fails.
    assert_eq!(clusters[0]["verdict"], "unknown");
    assert_eq!(clusters[1]["verdict"], "fail");
    assert_eq!(clusters[1]["report"]["pods"][0]["brokenLink"], "pod");
    // A cluster that lists no pod for this user is not read, not an empty pass.
    assert_eq!(clusters[2]["verdict"], "unknown");
    let err = clusters[2]["error"].as_str().unwrap();
    assert!(
        err.starts_with("cannot read the pods: 403 Forbidden")
            && err.contains("widiag needs list pods (cluster-wide)"),
        "{err}"
    );
    assert_eq!(clusters[3]["verdict"], "unknown");
    let err = clusters[3]["error"].as_str().unwrap();
    assert!(
        err.contains("cannot reach the cluster") || err.contains("127.0.0.1:1"),
        "{err}"
    );
    assert_eq!(fleet["summary"]["unreadable"], 2);
    assert_eq!(fleet["verdict"], "fail");

    let text = run(&["--color", "never", "--fail-on", "never"]);
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("=== context prod-b ==="), "{text}");
    assert!(text.contains("fleet verdict: fail"), "{text}");
    for context in ["gone", "locked"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("unknown") && l.contains(context) && l.contains("not read")),
            "{context}: {text}"
        );
    }
}

/// One cluster whose pods this user may not list: an error naming the permission (exit 2), as
/// `kubectl get pods` gives, never an empty report that passes.
#[test]
fn pods_that_cannot_be_listed_are_an_error_not_an_empty_pass() {
    let lab = common::lab_with("kubeUsers:\n- name: outsider\n  allow: []\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, lab.kubeconfig_as("outsider")).unwrap();
    for selection in [&["-A"][..], &["-n", "default"], &["--pod", "wi-kv-test"]] {
        let out = common::bin()
            .args(["check", "--offline", "--azure-auth", "none"])
            .args(selection)
            .arg("--kubeconfig")
            .arg(&path)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{selection:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{selection:?}");
        let needed = if selection == ["-A"] {
            "list pods (cluster-wide)"
        } else {
            "list pods in namespace default"
        };
        assert!(
            stderr.contains("cannot read the pods: 403 Forbidden")
                && stderr.contains(&format!("widiag needs {needed}")),
            "{selection:?}: {stderr}"
        );
    }
}

/// The issuer's discovery is down: widiag's own fetch says so on the issuer link, and Entra's
/// AADSTS90061 decides the exchange link.
#[test]
fn an_unreachable_issuer_is_named_on_the_issuer_and_exchange_links() {
    let lab = common::lab_with("issuer:\n  unreachable: true\n");
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "issuer-down", &kubeconfig, &[]);
    let issuer = link(&run.report, "default/wi-kv-test", "issuer");
    let exchange = link(&run.report, "default/wi-kv-test", "exchange");
    assert!(
        issuer.starts_with("fail") || issuer.starts_with("unknown"),
        "{issuer}"
    );
    assert!(exchange.starts_with("fail"), "{exchange}");
    assert!(
        run.output.contains("90061"),
        "Entra's code is in the evidence"
    );
}

/// A live check of `world` whose pod's access link reads `access` (`pass`, `fail(CODE)`, ...)
/// and whose resource link starts with `resource` (what the lab's data plane answered).
fn access_live(world: &str, extra: &[&str], pod: &str, access: &str, resource: &str) -> Run {
    let run = live_check(world, extra);
    assert_eq!(
        link(&run.report, pod, "access"),
        access,
        "{world}: {}",
        run.output
    );
    let r = link(&run.report, pod, "resource");
    assert!(r.starts_with(resource), "{world}: {r}\n{}", run.output);
    run
}

const KV_POD: &str = "default/wi-kv-test";

/// Key Vault access policies that name the identity in ways Key Vault never matches for an
/// app-only token (issue 19): the application's object id instead of its service principal's,
/// and a compound identity (applicationId set). The lab's vault refuses both (ForbiddenByPolicy)
/// and the access link says why.
#[test]
fn access_policies_that_never_match_are_named_live() {
    let pod = "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t";
    let kv = ["--keyvault", "sysadminas-demo-kv"];
    for (world, code) in [
        ("access-kv-app-object-id", "WI1113"),
        ("access-kv-compound-policy", "WI1112"),
    ] {
        let run = access_live(world, &kv, pod, &format!("fail({code})"), "fail");
        assert_eq!(link(&run.report, pod, "exchange"), "pass", "{world}");
        assert!(
            run.output.contains("ForbiddenByPolicy"),
            "{world}: Key Vault's own answer"
        );
    }
    // The healthy world, the same way: the service principal's own entry grants.
    access_live("seed-003-healthy", &kv, pod, "pass", "pass");
}

/// A data role held through nested Entra groups (issue 19): widiag reads the identity's
/// transitive memberships from Graph and the groups' role assignments from ARM, and the lab's
/// vault grants through the groups as Azure RBAC does.
#[test]
fn a_role_held_through_nested_groups_grants_live() {
    let run = access_live("access-rbac-group", &[], KV_POD, "pass", "pass");
    assert!(
        run.output.contains("through group platform-secret-readers"),
        "{}",
        run.output
    );
    assert!(
        run.requests
            .iter()
            .any(|r| r.path.contains("/transitiveMemberOf/microsoft.graph.group")),
        "group names come from Graph"
    );
    // The same groups holding a control-plane role: denied, and said so.
    access_live(
        "access-rbac-group-reader",
        &[],
        KV_POD,
        "fail(WI1102)",
        "fail",
    );
}

/// The same nested-group grant read by a caller Graph refuses (no GroupMember.Read.All, the
/// usual case for a support engineer): ARM's assignedTo() still lists the group's assignment, so
/// the grant is seen (named by the group's id) and only the names are reported as not read.
#[test]
fn a_group_grant_is_seen_without_graph_live() {
    let lab = common::lab_of("access-rbac-group", "azureDenied: [graph]\n");
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "no-graph", &kubeconfig, &[]);
    assert_eq!(
        link(&run.report, KV_POD, "access"),
        "pass",
        "{}",
        run.output
    );
    assert!(
        run.output
            .contains("through group 7b1d3f5a-9c2e-4a6b-8d0f-3e5a7c9b1d24"),
        "{}",
        run.output
    );
    let gaps = run.report["notRead"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["resource"] == "read group names"
            && g["error"]
                .as_str()
                .unwrap()
                .contains("Authorization_RequestDenied")),
        "{gaps:?}"
    );
}

/// A data role assigned at a management group two levels above the subscription (issue 19):
/// ARM lists it at the subscription for the principal, the analysis counts it as inherited, and
/// the lab's vault grants it as Azure RBAC does.
#[test]
fn a_role_inherited_from_a_management_group_grants_live() {
    let run = access_live("access-mg-inherited", &[], KV_POD, "pass", "pass");
    assert!(
        run.output
            .contains("at /providers/Microsoft.Management/managementGroups/contoso-platform"),
        "{}",
        run.output
    );
    // At a sibling management group the role does not reach the subscription.
    access_live("access-mg-sibling", &[], KV_POD, "fail(WI1102)", "fail");
}

/// Custom roles (issue 19): widiag reads the subscription's custom role definitions and
/// evaluates dataActions minus notDataActions; the lab's vault decides with its own evaluation.
#[test]
fn custom_roles_are_evaluated_live() {
    access_live("access-custom-role", &[], KV_POD, "pass", "pass");
    let run = access_live(
        "access-custom-role-masked",
        &[],
        KV_POD,
        "fail(WI1102)",
        "fail",
    );
    assert!(
        run.output.contains("in notDataActions takes away"),
        "{}",
        run.output
    );
    // A definition ARM does not return stays unknown rather than "no role".
    let run = live_check("access-custom-role-undefined", &[]);
    assert_eq!(link(&run.report, KV_POD, "access"), "unknown(WI1114)");
}

/// ABAC conditions on a Storage data role (issue 19): ARM returns the condition with the
/// assignment, widiag evaluates the documented container form, and the lab's Storage decides
/// with its own reading of it.
#[test]
fn a_container_condition_is_evaluated_live() {
    let pod = "default/cats-api-deployment-6d9c7b5f4d-x2k9p";
    let blob = ["--blob", "davydscats/cats"];
    access_live("access-blob-condition-allows", &blob, pod, "pass", "pass");
    let run = access_live(
        "access-blob-condition-denies",
        &blob,
        pod,
        "fail(WI1108)",
        "fail",
    );
    assert!(
        run.output.contains("conditioned to container"),
        "{}",
        run.output
    );
    // A blob-path condition: the pod's targets name no blob path, so access stays unknown with
    // the condition quoted, while Storage refuses the container listing the probe makes (the
    // listing carries no path for the condition to read).
    let run = access_live(
        "access-blob-condition-path",
        &blob,
        pod,
        "unknown(WI1115)",
        "fail",
    );
    assert!(run.output.contains("blobs:path"), "{}", run.output);
}

/// A deny assignment over a granted role (issue 19): read from ARM, it wins in the analysis as
/// in the lab's Key Vault (ForbiddenByRbac).
#[test]
fn a_deny_assignment_wins_over_a_role_live() {
    access_live(
        "access-deny-assignment",
        &[],
        KV_POD,
        "fail(WI1116)",
        "fail",
    );
}

/// The JWKS no longer has the key tokens are signed with (a rotation that skipped the JWKS):
/// the token's kid is not in the JWKS (WI703) and Entra rejects the assertion (AADSTS700027).
#[test]
fn a_jwks_missing_the_signing_key_fails_the_signature_check() {
    let lab = common::lab_with("issuer:\n  jwksMissingKey: true\n");
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "jwks-missing-key", &kubeconfig, &[]);
    assert!(
        link(&run.report, "default/wi-kv-test", "issuer").contains("WI703"),
        "{}",
        link(&run.report, "default/wi-kv-test", "issuer")
    );
    assert!(link(&run.report, "default/wi-kv-test", "exchange").starts_with("fail"));
    assert!(run.output.contains("700027"));
    // The issuer is AKS's: its JWKS is not the user's to publish; a fresh token is the fix.
    let issuer = run.report["pods"][0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == "issuer")
        .unwrap();
    assert_eq!(
        issuer["fix"],
        "kubectl get pod wi-kv-test -n default -o json | kubectl replace --force -f -"
    );
}

/// An API server that never answers one list: widiag gives up on it at --timeout, reports what
/// it could not read, and still analyses the rest.
#[test]
fn a_hanging_api_server_costs_one_timeout_not_a_hang() {
    let lab = common::lab_with("kubeDelays:\n- resources: [serviceaccounts]\n  millis: 120000\n");
    let kubeconfig = lab.kubeconfig();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, &kubeconfig).unwrap();
    let mut child = common::bin()
        .args([
            "check",
            "-o",
            "json",
            "--offline",
            "--azure-auth",
            "none",
            "--timeout",
            "2",
            "--fail-on",
            "never",
            "--kubeconfig",
        ])
        .arg(&path)
        .env_remove("KUBECONFIG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Far past --timeout: a widiag still running by then would be hanging.
    let mut finished = None;
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            finished = Some(status);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let Some(status) = finished else {
        child.kill().unwrap();
        panic!("widiag was still waiting 30 s after a 2 s timeout");
    };
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps = report["notRead"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["resource"] == "serviceaccounts"
            && g["error"].as_str().unwrap().contains("no answer within 2s")),
        "{gaps:?}"
    );
    assert_eq!(
        link(&report, "default/wi-kv-test", "service-account"),
        "unknown(WI308)"
    );
    assert_eq!(link(&report, "default/wi-kv-test", "pod"), "pass");
}

/// Blob targets: the exchange for Storage, the container read and the user delegation key, as
/// the lab's Blob service decides them from role assignments (the account-scope rule included).
#[test]
fn blob_probes_follow_what_storage_answers() {
    let args = ["--blob", "davydscats/cats", "--user-delegation"];
    let healthy = live_check("seed-001-healthy", &args);
    let pod = "default/cats-api-deployment-6d9c7b5f4d-x2k9p";
    assert_eq!(link(&healthy.report, pod, "exchange"), "pass");
    assert_eq!(link(&healthy.report, pod, "resource"), "pass");
    let blob_calls: Vec<&Logged> = healthy
        .requests
        .iter()
        .filter(|r| r.host == "davydscats.blob.core.windows.net")
        .collect();
    assert_eq!(blob_calls.len(), 2, "{blob_calls:?}");
    assert!(blob_calls.iter().all(|r| r.status == 200));
    // The key Storage returned is a credential: it is in no output.
    assert!(!healthy.output.contains("<Value>") && !healthy.output.contains("SignedOid"));
    assert!(!healthy.output.contains("lab-value-of-"));

    // A role on the container reads blobs but cannot mint a user delegation key.
    let scoped = live_check("seed-001-container-scope", &args);
    assert_eq!(link(&scoped.report, pod, "resource"), "fail(WI1208)");
    assert!(scoped.output.contains("AuthorizationPermissionMismatch"));
    assert_eq!(link(&scoped.report, pod, "access"), "fail(WI1109)");
    // The same with the container's URL in the pod's env (issue 20): the env target must not
    // drop the user delegation requirement.
    let named = live_check("access-blob-delegation-env-container", &args);
    assert_eq!(link(&named.report, pod, "access"), "fail(WI1109)");
    assert_eq!(link(&named.report, pod, "resource"), "fail(WI1208)");
}

/// A disabled service principal (issue 20): widiag reads accountEnabled from Graph and names it
/// at the identity link (WI807); the lab's Entra refuses the exchange with AADSTS7000112, which
/// the exchange link names from Microsoft's table (WI1013) instead of a generic rejection.
#[test]
fn a_disabled_service_principal_is_named_live() {
    let run = live_check("identity-sp-disabled", &[]);
    let pod = "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t";
    assert_eq!(
        link(&run.report, pod, "identity"),
        "fail(WI807)",
        "{}",
        run.output
    );
    assert_eq!(
        link(&run.report, pod, "exchange"),
        "fail(WI1013)",
        "{}",
        run.output
    );
    assert!(run.output.contains("UnauthorizedClientApplicationDisabled"));
    // The healthy application, the same way.
    let run = live_check("seed-003-healthy", &[]);
    assert_eq!(link(&run.report, pod, "identity"), "pass");
    assert_eq!(link(&run.report, pod, "exchange"), "pass");
}

/// A pod in kube-system on AKS (issue 20): read live, the webhook link names the admissions
/// enforcer and its documented opt-out (the configuration's admissions.enforcer/disabled label)
/// with the configuration's real name, not an unfilled template.
#[test]
fn the_aks_admissions_enforcer_fix_is_filled_live() {
    let run = live_check("webhook-aks-enforcer", &[]);
    let pod = "kube-system/wi-kv-test";
    assert_eq!(
        link(&run.report, pod, "webhook"),
        "fail(WI206)",
        "{}",
        run.output
    );
    assert!(
        run.output.contains(
            "kubectl label mutatingwebhookconfiguration azure-wi-webhook-mutating-webhook-configuration admissions.enforcer/disabled=true --overwrite"
        ),
        "{}",
        run.output
    );
    assert!(!run.output.contains("<move the workload"));
}

/// An Arc-enabled cluster (issue 20): widiag reads the issuer from
/// Microsoft.Kubernetes/connectedClusters, and the chain completes against Arc's issuer; the
/// same cluster without an issuer fails at the cluster link with the `az connectedk8s` fix.
#[test]
fn arc_enabled_clusters_are_read_live() {
    let run = live_check("cluster-arc", &[]);
    for l in ["cluster", "issuer", "federation", "exchange", "resource"] {
        assert_eq!(link(&run.report, KV_POD, l), "pass", "{l}: {}", run.output);
    }
    assert!(run.output.contains("oic.prod-arc.azure.com"));
    let run = live_check("cluster-arc-no-oidc", &[]);
    assert_eq!(link(&run.report, KV_POD, "cluster"), "fail(WI102)");
    assert!(
        run.output.contains("az connectedk8s update"),
        "{}",
        run.output
    );
}

/// An application set up to trust a managed identity (issue 20), named by the pod's
/// ServiceAccount: the federation link says so (WI908) and Entra (the lab) refuses the pod's own
/// token for the application, naming the issuer (AADSTS700211, WI1005).
#[test]
fn an_application_trusting_a_managed_identity_is_named_live() {
    let run = live_check("federation-app-trusts-mi", &[]);
    let pod = "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t";
    assert_eq!(
        link(&run.report, pod, "federation"),
        "fail(WI908)",
        "{}",
        run.output
    );
    assert_eq!(
        link(&run.report, pod, "exchange"),
        "fail(WI1005)",
        "{}",
        run.output
    );
    assert!(run.output.contains("700211"));
}

/// A managed identity in a region that cannot hold federated credentials (issue 20): read live
/// from ARM with its location, the identity link says so (WI808) and Entra (the lab) finds no
/// credential (AADSTS70025).
#[test]
fn an_identity_in_a_region_without_credentials_is_named_live() {
    let run = live_check("identity-fic-region", &[]);
    assert_eq!(
        link(&run.report, KV_POD, "identity"),
        "fail(WI808)",
        "{}",
        run.output
    );
    assert_eq!(
        link(&run.report, KV_POD, "exchange"),
        "fail(WI1006)",
        "{}",
        run.output
    );
}

/// AKS identity bindings (issue 20): widiag reads the cluster's identity bindings from ARM
/// (preview API) and the ClusterRoles from Kubernetes, and the federation link checks the
/// binding, the identity's aks-identity-binding credential and the ServiceAccount's grant.
#[test]
fn identity_bindings_are_read_live() {
    let pod = "apps/bound";
    let run = live_check("webhook-v1.6.0-custom-endpoint", &[]);
    assert_eq!(
        link(&run.report, pod, "federation"),
        "pass",
        "{}",
        run.output
    );
    assert!(run.output.contains("bound-id-binding"), "{}", run.output);
    for (world, code) in [
        ("binding-missing", "WI909"),
        ("binding-credential-deleted", "WI910"),
        ("binding-no-rbac", "WI911"),
        ("binding-vnet-integration", "WI912"),
    ] {
        let run = live_check(world, &[]);
        assert_eq!(
            link(&run.report, pod, "federation"),
            format!("fail({code})"),
            "{world}: {}",
            run.output
        );
    }
}

/// Every AADSTS code of the analysis's table, as the lab's Entra answers it (issue 20): the
/// lab's own transcription of real Entra's status and body (`LabBehaviour.entraRefuses`), read
/// live by widiag, names the finding the table maps it to, with its meaning.
#[test]
fn every_entra_refusal_in_the_table_is_named_live() {
    for row in widiag::analysis::entra_errors::TABLE {
        let lab = common::lab_with(&format!("entraRefuses: {}\n", row.code));
        let kubeconfig = lab.kubeconfig();
        let run = check_against(lab, "entra-refuses", &kubeconfig, &[]);
        // seed 004's credential matches the token: a 70021 there is propagation.
        let want = if row.code == 70021 {
            "warn(WI1004)".to_string()
        } else {
            format!("fail({})", row.finding.as_str())
        };
        assert_eq!(
            link(&run.report, KV_POD, "exchange"),
            want,
            "AADSTS{}: {}",
            row.code,
            run.output
        );
        assert!(
            run.output.contains(row.meaning),
            "AADSTS{}: the meaning",
            row.code
        );
    }
}

/// A credential created moments ago: Entra answers AADSTS70021 although the credential matches.
/// widiag says "propagating, retry in a few minutes" (WI1004), not "broken".
#[test]
fn a_credential_still_propagating_is_explained_not_declared_broken() {
    let lab = common::lab_with("propagating: [wi-demo-federated-id]\n");
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "propagating", &kubeconfig, &[]);
    assert_eq!(
        link(&run.report, "default/wi-kv-test", "federation"),
        "pass"
    );
    assert_eq!(
        link(&run.report, "default/wi-kv-test", "exchange"),
        "warn(WI1004)"
    );
    assert!(run.output.contains("70021"));
}

/// `--in-pod`: widiag inside the workload presents the pod's own token file; no TokenRequest.
#[tokio::test]
async fn in_pod_presents_the_pods_own_token_instead_of_requesting_one() {
    let lab = common::spawn_lab("seed-004-healthy");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(
        &file,
        common::mint_token(&lab, "default", "wi-demo-sa").await,
    )
    .unwrap();
    let before = lab.requests().len();
    let kubeconfig = lab.kubeconfig();
    let file_str = file.to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || {
        let out = common::widiag_against(
            &lab,
            &kubeconfig,
            &[
                "check",
                "--in-pod",
                "--pod",
                "default/wi-kv-test",
                "-o",
                "json",
            ],
            &[("AZURE_FEDERATED_TOKEN_FILE", &file_str)],
        );
        (out, lab)
    })
    .await
    .unwrap();
    let (out, lab) = out;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(link(&report, "default/wi-kv-test", "exchange"), "pass");
    assert_eq!(link(&report, "default/wi-kv-test", "resource"), "pass");
    let token_link = report["pods"][0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == "token")
        .unwrap()
        .to_string();
    assert!(token_link.contains("in-pod"), "{token_link}");
    let token_requests = lab.requests()[before..]
        .iter()
        .filter(|r| {
            r.method == "POST" && r.path.ends_with("/token") && r.path.contains("serviceaccounts")
        })
        .count();
    assert_eq!(token_requests, 0, "the pod's own token was presented");

    // Without the file the webhook would have set, it says what is missing.
    let none = common::bin()
        .args(["check", "--in-pod", "--offline", "--azure-auth", "none"])
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("AZURE_FEDERATED_TOKEN_FILE is not set")
    );
}

/// Azure reads the caller may not make (ARM 403 AuthorizationFailed, Graph 403
/// Authorization_RequestDenied) become gaps with the permission needed; the links they decide
/// say they could not be decided, and the rest of the chain still runs.
#[test]
fn azure_reads_denied_become_gaps_not_failures() {
    // seed 001's identity reads blobs through a role assignment the caller cannot list.
    let path = common::root().join("assets/worlds/seed-001-healthy.yaml");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n---\napiVersion: widiag.io/v1\nkind: LabBehaviour\nazureDenied: [roleAssignments]\n";
    let lab =
        LabHandle::spawn(widiag::world::parse::parse_str("roles-denied.yaml", &text).unwrap())
            .unwrap();
    let kubeconfig = lab.kubeconfig();
    let run = check_against(
        lab,
        "roles-denied",
        &kubeconfig,
        &["--blob", "davydscats/cats", "--user-delegation"],
    );
    let gaps = run.report["notRead"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["error"]
            .as_str()
            .unwrap()
            .contains("403 AuthorizationFailed")
            && g["needed"]
                .as_str()
                .unwrap()
                .contains("roleAssignments/read")),
        "{gaps:?}"
    );
    let pod = "default/cats-api-deployment-6d9c7b5f4d-x2k9p";
    assert_eq!(link(&run.report, pod, "access"), "unknown(WI1111)");
    // The live probe still decides what the resource itself says.
    assert_eq!(link(&run.report, pod, "resource"), "pass");

    let path = common::root().join("assets/worlds/seed-003-healthy.yaml");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n---\napiVersion: widiag.io/v1\nkind: LabBehaviour\nazureDenied: [graph]\n";
    let lab =
        LabHandle::spawn(widiag::world::parse::parse_str("graph-denied.yaml", &text).unwrap())
            .unwrap();
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "graph-denied", &kubeconfig, &[]);
    let gaps = run.report["notRead"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["error"]
            .as_str()
            .unwrap()
            .contains("403 Authorization_RequestDenied")),
        "{gaps:?}"
    );
    let pod = "sysadminas-demo/azure-wi-demo-7f6d8c9b54-q8w2t";
    assert_eq!(link(&run.report, pod, "identity"), "unknown(WI802)");
}

/// A user who may not mint tokens (`create serviceaccounts/token`) but may exec: widiag reads the
/// pod's own token file over pods/exec (WebSocket) and the chain still completes.
#[test]
fn without_token_requests_the_token_file_is_read_over_exec() {
    let lab = common::lab_with(
        "kubeUsers:\n- name: support\n  allow:\n  - verbs: [get, list, watch]\n    resources: ['*']\n  - verbs: [create]\n    resources: [pods/exec]\n",
    );
    let kubeconfig = lab.kubeconfig_as("support");
    let run = check_against(lab, "exec-only", &kubeconfig, &[]);
    assert_eq!(link(&run.report, "default/wi-kv-test", "exchange"), "pass");
    let token_link = run.report["pods"][0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == "token")
        .unwrap()
        .to_string();
    assert!(token_link.contains("\"exec\""), "{token_link}");
    let denied = run
        .requests
        .iter()
        .filter(|r| r.path.ends_with("/serviceaccounts/wi-demo-sa/token"))
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(
        denied,
        [403],
        "the TokenRequest was tried first and refused"
    );
    assert!(
        run.requests
            .iter()
            .any(|r| r.path.ends_with("/pods/wi-kv-test/exec") && r.status == 101)
    );
}

/// `--transcript` names every request, Kubernetes ones (kube-rs lists, the TokenRequest)
/// included, with status and time; a refused one shows its status and why.
#[test]
fn the_transcript_covers_kubernetes_requests_too() {
    let run = live_check("seed-004-healthy", &[]);
    for needle in [
        "200 GET /version (server version)",
        "200 GET /api/v1/pods (list pods)",
        "200 GET /api/v1/serviceaccounts (list serviceaccounts)",
        "201 POST /api/v1/namespaces/default/serviceaccounts/wi-demo-sa/token (token request)",
    ] {
        assert!(
            run.output.contains(needle),
            "{needle} not in:\n{}",
            run.output
        );
    }
    let lab = common::lab_with(
        "kubeUsers:\n- name: reader\n  allow:\n  - verbs: [get, list, watch]\n    resources: ['*']\n",
    );
    let kubeconfig = lab.kubeconfig_as("reader");
    let denied = check_against(lab, "no-token", &kubeconfig, &[]);
    // A refused request shows the status the API server answered, not `---`.
    assert!(
        denied.output.lines().any(|l| l.contains(
            "403 POST /api/v1/namespaces/default/serviceaccounts/wi-demo-sa/token (token request)"
        )),
        "{}",
        denied.output
    );
    assert!(!denied.output.contains("eyJ"), "no token in the transcript");
}

/// An issuer that never answers: widiag's own fetch gives up at --timeout and says so on the
/// issuer link, Entra's AADSTS90061 decides the exchange, and the run ends.
#[test]
fn a_hanging_issuer_costs_one_timeout_not_a_hang() {
    let lab = common::lab_with("issuer:\n  hangMillis: 120000\n");
    let kubeconfig = lab.kubeconfig();
    let started = std::time::Instant::now();
    let run = check_against(lab, "issuer-hangs", &kubeconfig, &["--timeout", "3"]);
    // Far past the timeout (for the issuer's two documents and the rest of the run).
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "widiag hung"
    );
    let issuer = link(&run.report, "default/wi-kv-test", "issuer");
    assert!(!issuer.starts_with("pass"), "{issuer}");
    assert!(run.output.contains("timed out"), "the evidence says why");
    assert!(link(&run.report, "default/wi-kv-test", "exchange").starts_with("fail"));
    assert!(run.output.contains("90061"));
}

/// A vault whose firewall admits no one: Key Vault's 403 ForbiddenByFirewall reaches the
/// resource link as WI1204, told apart from RBAC and access-policy denials, and the access link
/// already says no network reaches the vault (WI1117, issue 20).
#[test]
fn a_firewalled_vault_is_told_apart_from_permission_denials() {
    let path = common::root().join("assets/worlds/seed-004-healthy.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  publicNetworkAccess: Enabled",
        "  publicNetworkAccess: Disabled",
    );
    let lab = LabHandle::spawn(widiag::world::parse::parse_str("firewalled.yaml", &text).unwrap())
        .unwrap();
    let kubeconfig = lab.kubeconfig();
    let run = check_against(lab, "firewalled", &kubeconfig, &[]);
    assert_eq!(link(&run.report, "default/wi-kv-test", "exchange"), "pass");
    assert_eq!(
        link(&run.report, "default/wi-kv-test", "resource"),
        "fail(WI1204)"
    );
    assert_eq!(
        link(&run.report, "default/wi-kv-test", "access"),
        "fail(WI1117)"
    );
    assert!(run.output.contains("ForbiddenByFirewall"));
}

/// Issue 20's network worlds live: a vault closed to every network fails at access (WI1117) and
/// Key Vault refuses; the same vault reached through an approved private endpoint is only a
/// warning (WI1107) and Key Vault answers; a storage account behind a network security perimeter
/// is unknown at access (WI1118), and the lab's Storage, which holds no perimeter rules, refuses.
#[test]
fn network_rules_are_read_live() {
    let run = access_live(
        "access-kv-firewall-closed",
        &[],
        KV_POD,
        "fail(WI1117)",
        "fail(WI1204)",
    );
    assert!(run.output.contains("ForbiddenByFirewall"));
    let run = access_live(
        "access-kv-private-endpoint",
        &[],
        KV_POD,
        "warn(WI1107)",
        "pass",
    );
    assert!(run.output.contains("private endpoint"), "{}", run.output);
    let pod = "default/cats-api-deployment-6d9c7b5f4d-x2k9p";
    access_live(
        "access-storage-perimeter",
        &["--blob", "davydscats/cats"],
        pod,
        "unknown(WI1118)",
        "fail(WI1204)",
    );
}

/// A storage account whose network rules deny by default and list nothing: Storage's 403
/// AuthorizationFailure reaches the resource link as WI1204 (not the RBAC WI1208), the access
/// link says no network reaches the account (WI1117), and the Storage token itself was issued.
#[test]
fn a_firewalled_storage_account_is_told_apart_from_permission_denials() {
    let path = common::root().join("assets/worlds/seed-001-healthy.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("    defaultAction: Allow").count(), 1);
    let text = text.replace("    defaultAction: Allow", "    defaultAction: Deny");
    let lab = LabHandle::spawn(widiag::world::parse::parse_str("firewalled.yaml", &text).unwrap())
        .unwrap();
    let kubeconfig = lab.kubeconfig();
    let args = ["--blob", "davydscats/cats"];
    let run = check_against(lab, "storage-firewalled", &kubeconfig, &args);
    let pod = "default/cats-api-deployment-6d9c7b5f4d-x2k9p";
    assert_eq!(link(&run.report, pod, "exchange"), "pass");
    assert_eq!(link(&run.report, pod, "resource"), "fail(WI1204)");
    assert_eq!(link(&run.report, pod, "access"), "fail(WI1117)");
    assert!(run.output.contains("AuthorizationFailure"));
    let blob_calls: Vec<&Logged> = run
        .requests
        .iter()
        .filter(|r| r.host == "davydscats.blob.core.windows.net")
        .collect();
    assert!(!blob_calls.is_empty() && blob_calls.iter().all(|r| r.status == 403));
}
