//! Every fix widiag prints for a failing link of an embedded world, made for real and checked
//! (issue 22): a fresh lab serves the world; `widiag check` reads it live; the fix runs through
//! a shell exactly as printed, with the real `kubectl` and the real Azure CLI (signed in as the
//! lab's operator, which may write) and the placeholders it names filled by this test; then `widiag check`
//! reads the lab again and the finding must be gone from the workload's new pods, with no
//! failing finding that was not there before. Earlier links' fixes for the same pod run first,
//! in chain order, as a user would make them. A fix that cannot be verified this way is listed
//! in `not_verified` with the reason; tests/fix_kubectl.rs runs every kubectl step of every
//! fix, diagnostics included, for whether kubectl accepts it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A failing finding with a fix, as the offline analysis of a world reports it.
#[derive(Clone, Debug)]
struct Case {
    world: String,
    /// The world (from assets/worlds, or tests/worlds for the adversarial one), read once.
    data: std::sync::Arc<widiag::world::World>,
    namespace: String,
    pod: String,
    /// (kind, name) of the pod's owner; ("Pod", name) for a bare pod.
    workload: (String, String),
    link: String,
    code: String,
    fix: String,
}

/// `widiag check -o json`: offline on a world file, or live with `lab`.
fn report(args: &[&str], lab: Option<&widiag::lab::LabHandle>) -> Value {
    let mut full = vec!["check", "-o", "json", "--fail-on", "never"];
    full.extend_from_slice(args);
    let out = match lab {
        Some(lab) => common::widiag_against(lab, &lab.kubeconfig(), &full, &[]),
        None => common::bin().args(&full).output().unwrap(),
    };
    assert!(
        out.status.success(),
        "widiag {full:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn failing(f: &Value) -> bool {
    matches!(f["severity"].as_str(), Some("error" | "warning"))
}

fn cases_of(world: &str, path: &Path, report: &Value) -> Vec<Case> {
    let data = std::sync::Arc::new(common::load(path));
    let mut out = Vec::new();
    for p in report["pods"].as_array().into_iter().flatten() {
        let workload = (text(&p["workload"]["kind"]), text(&p["workload"]["name"]));
        let workload = if workload.0.is_empty() {
            ("Pod".to_string(), text(&p["name"]))
        } else {
            workload
        };
        for l in p["links"].as_array().into_iter().flatten() {
            for f in l["findings"].as_array().into_iter().flatten() {
                if !failing(f) || f["fix"].is_null() {
                    continue;
                }
                out.push(Case {
                    world: world.to_string(),
                    data: data.clone(),
                    namespace: text(&p["namespace"]),
                    pod: text(&p["name"]),
                    workload: workload.clone(),
                    link: text(&l["link"]),
                    code: text(&f["code"]),
                    fix: text(&f["fix"]),
                });
            }
        }
    }
    out
}

/// Why a fix cannot be verified here, or None when it runs.
fn not_verified(case: &Case) -> Option<&'static str> {
    let fix = case.fix.as_str();
    let first = fix.split_whitespace().next().unwrap_or_default();
    if first == "helm" || fix.contains("helm ") {
        return Some("Helm: the lab holds no Helm releases to upgrade or uninstall");
    }
    if !matches!(first, "kubectl" | "az" | "printf") {
        return Some("prose: it says what to change, with no command to run");
    }
    if fix.contains("kubectl run ") {
        return Some("runs a diagnostic pod; the lab runs no containers");
    }
    if fix.contains("az aks ") {
        return Some(
            "AKS's control plane (cluster updates and upgrades, identity bindings) is not in the lab",
        );
    }
    if fix.contains("az connectedk8s ") {
        return Some("Azure Arc's CLI extension and connected clusters are not in the lab");
    }
    if first == "az" && !AZ_WRITES.iter().any(|w| fix.contains(w)) {
        return Some("a look-up: it shows what to change, and the change is the user's");
    }
    if case.code == "WI908" {
        return Some(
            "the fix moves the pod to the identity the application trusts; the vault then answers the application, reached only by a second exchange in the app's code (the identity's token as the application's assertion), which no cluster object shows, so the live access link judges the identity",
        );
    }
    if case.code == "WI203" {
        return Some(
            "whether the webhook's pods become ready after a restart depends on their image and configuration; the lab runs no containers",
        );
    }
    if holes(fix).iter().any(|h| fill(case, h).is_none()) {
        return Some("needs a value only the user has");
    }
    None
}

/// The `az` verbs that change something; a fix with none of them only looks.
const AZ_WRITES: &[&str] = &[
    " create ",
    " update ",
    " delete ",
    " set-policy ",
    " delete-policy ",
    " network-rule add ",
];

/// The `<placeholders>` of a fix.
fn holes(fix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = fix;
    while let Some(i) = rest.find('<') {
        let Some(j) = rest[i..].find('>') else { break };
        let hole = &rest[i..=i + j];
        if !hole.starts_with("<(") {
            out.push(hole.to_string());
        }
        rest = &rest[i + j + 1..];
    }
    out
}

/// What the test puts for a placeholder: the user's own manifest (written by `verify`), the
/// client ID of the identity whose credential names the ServiceAccount the fix makes, or None
/// when only the user can know.
fn fill(case: &Case, hole: &str) -> Option<String> {
    match hole {
        "<manifest file of the pod>" => Some("user-pod.yaml".into()),
        h if h.starts_with(WITHOUT) => Some(format!(
            "user-pod-without-{}.yaml",
            h[WITHOUT.len()..].trim_end_matches('>').replace('/', "_")
        )),
        "<client-id>" => {
            let sa = case
                .fix
                .split("serviceaccount ")
                .nth(1)?
                .split_whitespace()
                .next()?;
            let subject = format!("system:serviceaccount:{}:{sa}", case.namespace);
            let world = &case.data;
            let fic = world
                .azure
                .federated_credentials
                .iter()
                .find(|f| f.subject.as_deref() == Some(&subject))?;
            world.azure.identities.iter().find(|i| {
                matches!(&fic.owner, widiag::world::azure::CredentialOwner::Identity(id) if id.eq_ignore_ascii_case(&i.id))
            })?.client_id.clone()
        }
        _ => None,
    }
}

/// A user's manifest with one annotation taken out, as a fix asks.
const WITHOUT: &str = "<manifest file of the pod, without ";

/// The reason for a fix whose finding the live analysis does not raise before it is made.
const NOT_LIVE: &str = "live, widiag does not raise it before the fix (the live probes see the lab differently from the offline prediction)";

/// The reason for a fix that did not work after an earlier fix of the same pod that cannot run.
const AFTER_UNRUN: &str = "follows an earlier fix of the same pod that cannot run here";

/// The resource the world says the pod reaches (its `targets`), as `check` takes it live:
/// the namespace and `--keyvault` or `--blob` (with `--user-delegation`).
fn target_args(case: &Case) -> Vec<String> {
    let world = &case.data;
    let pod = format!("{}/{}", case.namespace, case.pod);
    let Some(t) = world
        .info
        .targets
        .iter()
        .find(|t| t.pod.as_deref().is_none_or(|p| p == pod))
    else {
        return Vec::new();
    };
    let mut args = vec!["-n".to_string(), case.namespace.clone()];
    if let Some(kv) = &t.keyvault {
        args.extend(["--keyvault".into(), kv.clone()]);
    }
    if let Some(blob) = &t.blob {
        args.extend(["--blob".into(), blob.clone()]);
    }
    if t.user_delegation {
        args.push("--user-delegation".into());
    }
    args
}

/// The env the webhook injects, and its token volumes: what a user's own manifest lacks.
const INJECTED_ENV: &[&str] = &[
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
];

/// The pod as its user wrote it: the lab's object without what the API server and the webhook
/// added.
fn user_manifest(live: &Value) -> Value {
    let mut pod = live.clone();
    let meta = pod["metadata"].as_object_mut().unwrap();
    for k in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
        "ownerReferences",
        "generation",
    ] {
        meta.remove(k);
    }
    pod.as_object_mut().unwrap().remove("status");
    let token_volumes: Vec<String> = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| {
            v["projected"]["sources"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| {
                    let audience = s["serviceAccountToken"]["audience"].as_str();
                    matches!(
                        audience,
                        Some("api://AzureADTokenExchange" | "api://AKSIdentityBinding")
                    )
                })
        })
        .map(|v| text(&v["name"]))
        .collect();
    if let Some(vs) = pod["spec"]["volumes"].as_array_mut() {
        vs.retain(|v| !token_volumes.contains(&text(&v["name"])));
    }
    for list in ["containers", "initContainers"] {
        for c in pod["spec"][list].as_array_mut().into_iter().flatten() {
            if let Some(env) = c["env"].as_array_mut() {
                env.retain(|e| {
                    let name = e["name"].as_str().unwrap_or_default();
                    // v1.6.0's custom token endpoint variables come from the webhook too.
                    !INJECTED_ENV.contains(&name) && !name.starts_with("AZURE_KUBERNETES_")
                });
            }
            if let Some(m) = c["volumeMounts"].as_array_mut() {
                m.retain(|m| !token_volumes.contains(&text(&m["name"])));
            }
        }
    }
    pod
}

/// What a fix's shell gets: the kubeconfig, the lab's proxy and CA, the pinned Azure CLI
/// (scripts/test installs it in target/tools/az) on PATH with a config dir of its own.
fn shell_env(lab: &widiag::lab::LabHandle, dir: &Path, kubeconfig: &Path) -> Vec<(String, String)> {
    let mut env = common::client_env(lab, dir);
    let az = common::root().join("target/tools/az/bin");
    env.push((
        "PATH".into(),
        format!(
            "{}:{}",
            az.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    ));
    env.push(("KUBECONFIG".into(), kubeconfig.display().to_string()));
    env.push((
        "AZURE_CONFIG_DIR".into(),
        dir.join("az").display().to_string(),
    ));
    env.push(("AZURE_CORE_COLLECT_TELEMETRY".into(), "0".into()));
    env.push(("AZURE_CORE_SURVEY_MESSAGE".into(), "0".into()));
    env
}

/// bash, failing on the first step that fails.
fn run_fix(fix: &str, dir: &Path, env: &[(String, String)]) -> Result<(), String> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -e -o pipefail\n{fix}"))
        .envs(env.iter().cloned())
        .current_dir(dir)
        .output()
        .expect("bash runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The failing codes of the workload's pods in a live report, per pod.
fn failing_codes(report: &Value, case: &Case) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for p in report["pods"].as_array().into_iter().flatten() {
        let same = text(&p["namespace"]) == case.namespace
            && if case.workload.0 == "Pod" {
                text(&p["name"]) == case.pod
            } else {
                text(&p["workload"]["kind"]) == case.workload.0
                    && text(&p["workload"]["name"]) == case.workload.1
            };
        if !same {
            continue;
        }
        let codes = p["links"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|l| l["findings"].as_array().into_iter().flatten())
            .filter(|f| failing(f))
            .map(|f| text(&f["code"]))
            .collect();
        out.insert(text(&p["name"]), codes);
    }
    out
}

/// Makes the fixes in `steps` (earlier links first, `case` last) on a fresh lab and checks
/// what `case`'s fix claims.
fn verify(case: &Case, steps: &[&Case]) -> Result<(), String> {
    let lab =
        widiag::lab::LabHandle::spawn(widiag::world::World::clone(&case.data)).expect("lab starts");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    lab.write_kubeconfig(&kubeconfig).unwrap();
    let targets = target_args(case);
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let before = report(&targets, Some(&lab));
    let before_codes = failing_codes(&before, case);
    if !before_codes.values().any(|c| c.contains(&case.code)) {
        return Err(NOT_LIVE.into());
    }
    // A workload with no pod yet is analysed from its template: there is no pod to write.
    if let Ok(live_pod) = lab_object(&kubeconfig, &case.namespace, &case.pod) {
        let manifest = user_manifest(&live_pod);
        std::fs::write(dir.path().join("user-pod.yaml"), manifest.to_string()).unwrap();
        for step in steps {
            for hole in holes(&step.fix).iter().filter(|h| h.starts_with(WITHOUT)) {
                let key = hole[WITHOUT.len()..].trim_end_matches('>');
                let mut edited = manifest.clone();
                if let Some(a) = edited["metadata"]["annotations"].as_object_mut() {
                    a.remove(key);
                }
                let file = fill(step, hole).unwrap();
                std::fs::write(dir.path().join(file), edited.to_string()).unwrap();
            }
        }
    }
    let env = shell_env(&lab, dir.path(), &kubeconfig);
    if steps.iter().any(|s| s.fix.contains("az ")) {
        let op = common::read_env(&dir.path().join("operator.env"));
        let login = format!(
            "az login --service-principal -u {} -p {} --tenant {} --allow-no-subscriptions -o none",
            op["AZURE_CLIENT_ID"], op["AZURE_CLIENT_SECRET"], op["AZURE_TENANT_ID"]
        );
        run_fix(&login, dir.path(), &env).map_err(|e| format!("az login as the operator: {e}"))?;
    }
    for step in steps {
        let mut fix = step.fix.clone();
        for hole in holes(&step.fix) {
            fix = fix.replace(&hole, &fill(step, &hole).unwrap_or_default());
        }
        let ran = run_fix(&fix, dir.path(), &env);
        // The adversarial world's values try `touch PWNED`: quoted, they never run.
        assert!(
            !dir.path().join("PWNED").exists(),
            "a hostile value ran as a command: {fix}"
        );
        ran.map_err(|e| format!("{} ({}) failed: {fix}\n    {e}", step.code, step.link))?;
    }
    let after = report(&targets, Some(&lab));
    let after_codes = failing_codes(&after, case);
    if after_codes.is_empty() {
        return Err("no pod of the workload after the fix".into());
    }
    let was: BTreeSet<&String> = before_codes.values().flatten().collect();
    for (pod, codes) in &after_codes {
        if codes.contains(&case.code) {
            return Err(format!("{pod} still has {} after: {}", case.code, case.fix));
        }
        let new: Vec<&String> = codes.iter().filter(|c| !was.contains(c)).collect();
        if !new.is_empty() {
            return Err(format!("{pod} fails with new {new:?} after: {}", case.fix));
        }
    }
    Ok(())
}

fn lab_object(kubeconfig: &Path, ns: &str, pod: &str) -> Result<Value, String> {
    let out = Command::new("kubectl")
        .args(["get", "pod", pod, "-n", ns, "-o", "json"])
        .env("KUBECONFIG", kubeconfig)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&out.stdout).map_err(|_| {
        format!(
            "kubectl get pod {ns}/{pod}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// What `run` found: the (code, world) verified, the cases not verified by reason, failures.
type Outcome = (
    Vec<(String, String)>,
    BTreeMap<&'static str, Vec<String>>,
    Vec<String>,
);

/// Runs every case of the worlds whose index `pick` takes.
fn run(pick: impl Fn(usize) -> bool) -> Outcome {
    let mut verified = Vec::new();
    let mut skipped: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut worlds = common::worlds();
    // The untrusted-input world: its fixes carry hostile values, quoted (issue 18).
    worlds.push((
        "adversarial".into(),
        common::root().join("tests/worlds/adversarial.yaml"),
    ));
    for (i, (name, path)) in worlds.into_iter().enumerate() {
        if !pick(i) {
            continue;
        }
        let cases = cases_of(&name, &path, &report(&["-w", path.to_str().unwrap()], None));
        for (n, case) in cases.iter().enumerate() {
            let label = format!(
                "{} {} {}/{}",
                case.world, case.code, case.namespace, case.pod
            );
            if let Some(why) = not_verified(case) {
                skipped.entry(why).or_default().push(label);
                continue;
            }
            // This pod's earlier findings are fixed first, as a user works down the chain.
            let earlier: Vec<&Case> = cases[..n]
                .iter()
                .filter(|c| c.pod == case.pod && c.namespace == case.namespace)
                .filter(|c| c.fix != case.fix)
                .collect();
            let unrun = earlier.iter().any(|c| not_verified(c).is_some());
            let mut steps: Vec<&Case> = earlier
                .into_iter()
                .filter(|c| not_verified(c).is_none())
                .collect();
            steps.push(case);
            match verify(case, &steps) {
                Ok(()) => verified.push((case.code.clone(), case.world.clone())),
                Err(e) if e == NOT_LIVE => skipped.entry(NOT_LIVE).or_default().push(label),
                Err(e) if unrun => skipped
                    .entry(AFTER_UNRUN)
                    .or_default()
                    .push(format!("{label} ({e})")),
                Err(e) => failures.push(format!("{label}: {e}")),
            }
        }
    }
    (verified, skipped, failures)
}

/// Per code: "end to end" when one of its fixes was verified, else the first reason one was not.
fn statuses(
    verified: &BTreeSet<String>,
    skipped: &BTreeMap<&'static str, Vec<String>>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = verified
        .iter()
        .map(|c| (c.clone(), "end to end".to_string()))
        .collect();
    for (why, labels) in skipped {
        for label in labels {
            let code = label
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            out.entry(code).or_insert_with(|| format!("no: {why}"));
        }
    }
    out
}

#[test]
#[ignore = "needs kubectl: ./scripts/test checks for it and runs ignored tests"]
fn fixes_turn_the_chain_green() {
    // The worlds in two halves, one per core.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(|i| i % 2 == 0));
        let b = s.spawn(|| run(|i| i % 2 == 1));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut verified = a.0;
    verified.extend(b.0);
    let mut skipped = a.1;
    for (why, cases) in b.1 {
        skipped.entry(why).or_default().extend(cases);
    }
    let failures: Vec<String> = a.2.into_iter().chain(b.2).collect();
    eprintln!(
        "verified {} fixes of {} codes",
        verified.len(),
        verified
            .iter()
            .map(|(c, _)| c)
            .collect::<BTreeSet<_>>()
            .len()
    );
    for (why, cases) in &skipped {
        eprintln!(
            "not verified ({why}), {}: {}",
            cases.len(),
            cases.join("; ")
        );
    }
    assert!(
        failures.is_empty(),
        "fixes that did not work:\n{}",
        failures.join("\n")
    );
    assert!(
        verified.len() > 20,
        "only {} fixes verified",
        verified.len()
    );
    // docs/findings.md says per code what this test found (assets/findings.yaml `verified`).
    let codes: BTreeSet<String> = verified.iter().map(|(c, _)| c.clone()).collect();
    let found = statuses(&codes, &skipped);
    let catalog = widiag::analysis::Catalog::builtin();
    let mut wrong = Vec::new();
    for e in catalog.entries() {
        let said = e.verified.clone();
        let is = found.get(&*e.code).cloned();
        if said != is {
            wrong.push(format!(
                "{}: findings.yaml says {said:?}, the test found {is:?}",
                e.code
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "assets/findings.yaml `verified` is not what happened:\n{}",
        wrong.join("\n")
    );
}
