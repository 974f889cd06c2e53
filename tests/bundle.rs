//! Support bundles: a world written back out reads in to the same analysis; subsets and
//! redaction keep every chain; every report form is snapshotted and leak-free.

mod common;

use common::{analyze, load, worlds};
use widiag::analysis::{self, Catalog, Options, Selection, Status};
use widiag::bundle;
use widiag::output;
use widiag::world::parse::parse_str;
use widiag::world::write;

#[test]
fn every_world_written_out_reads_back_to_the_same_analysis() {
    for (name, path) in worlds() {
        let world = load(&path);
        let docs = write::documents(&world);
        let yaml = write::to_yaml(&docs).unwrap();
        let again =
            parse_str("written.yaml", &yaml).unwrap_or_else(|e| panic!("{name}: {e}\n{yaml}"));
        let (mut a, b) = (analyze(&world), analyze(&again));
        a.ignored.clear();
        assert_eq!(a, b, "{name}: analysis changed after a round trip");
        // Writing is stable: the second world writes the same documents.
        assert_eq!(docs, write::documents(&again), "{name}: documents changed");
    }
}

fn options(world: &widiag::world::World, selection: Selection) -> Options {
    Options {
        selection,
        now: world.info.captured_at.expect("capturedAt"),
        targets: Vec::new(),
    }
}

/// Every pod of every world, and every workload whose pods never appeared, as a bundle of its
/// own, replays to the chain it had in the whole world, from the subset alone (never the
/// whole-world fallback), with and without names.
#[test]
fn every_pod_bundle_replays_to_the_same_chain() {
    let catalog = Catalog::builtin();
    let mut checked = 0;
    for (name, path) in worlds() {
        let world = load(&path);
        for pod in analyze(&world).pods {
            // A workload with no pod is bundled as the workload.
            let selection = if pod.template_only {
                let w = &pod.workload;
                Selection::Workload((
                    pod.pod.namespace.clone(),
                    w.kind.to_string(),
                    w.name.clone(),
                ))
            } else {
                Selection::Pod(pod.pod.clone())
            };
            let opts = options(&world, selection);
            let b = bundle::build(&world, &catalog, &opts, false).unwrap();
            assert!(
                !b.whole_world,
                "{name} {}: the subset lost something",
                pod.pod
            );
            let replayed = parse_str("bundle.yaml", &output::bundle::render(&b).unwrap()).unwrap();
            let again = analysis::analyze(&replayed, &catalog, &options(&replayed, Selection::All));
            assert_eq!(again.pods, vec![pod.clone()], "{name} {}", pod.pod);
            let recorded = replayed.recorded.as_ref().expect("a Diagnosis document");
            assert_eq!(
                bundle::replay::differences(recorded, &again),
                Vec::<String>::new()
            );
            assert!(
                replayed.kube.pods.len() == usize::from(!pod.template_only),
                "{name}: a pod's bundle holds only that pod, a workload's none"
            );
            let r = bundle::build(&world, &catalog, &opts, true)
                .unwrap_or_else(|e| panic!("{name} {}: {e}", pod.pod));
            assert_eq!(r.report.pods.len(), 1);
            assert_eq!(
                r.report.pods[0].verdict(),
                pod.verdict(),
                "{name} {}",
                pod.pod
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} pods");
}

fn seed_worlds() -> Vec<(String, std::path::PathBuf)> {
    worlds()
        .into_iter()
        .filter(|(n, _)| n.starts_with("seed-"))
        .collect()
}

/// Each seed world's handoff for all its pods, in every form.
fn all_pods(world: &widiag::world::World) -> bundle::Bundle {
    bundle::build(
        world,
        &Catalog::builtin(),
        &options(world, Selection::All),
        false,
    )
    .unwrap()
}

#[test]
fn markdown_html_and_bundle_match_snapshots() {
    for (name, path) in seed_worlds() {
        let b = all_pods(&load(&path));
        let h = output::handoff::gather(&b);
        insta::assert_snapshot!(format!("markdown-{name}"), output::markdown::render(&h));
        insta::assert_snapshot!(format!("html-{name}"), output::html::render(&h));
        insta::assert_snapshot!(
            format!("bundle-{name}"),
            output::bundle::render(&b).unwrap()
        );
    }
}

#[test]
fn junit_and_sarif_match_snapshots_and_their_schemas() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("schemas/sarif-2.1.0.json")).unwrap();
    let sarif_schema = jsonschema::validator_for(&schema).unwrap();
    let catalog = Catalog::builtin();
    for (name, path) in seed_worlds() {
        let report = analyze(&load(&path));
        let junit = output::junit::render(&report, Some(Status::Fail));
        insta::assert_snapshot!(format!("junit-{name}"), junit);
        // A JUnit reader we did not write sees one failure per failing link, typed by code.
        let parsed = quick_junit::Report::deserialize_from_str(&junit).unwrap();
        let failures: Vec<String> = parsed
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .filter_map(|c| match &c.status {
                quick_junit::TestCaseStatus::NonSuccess { ty, .. } => {
                    ty.as_ref().map(|t| t.to_string())
                }
                _ => None,
            })
            .collect();
        let expected: Vec<String> = report
            .pods
            .iter()
            .flat_map(|p| &p.links)
            .filter(|l| l.status == Status::Fail)
            .map(|l| l.primary().unwrap().code.to_string())
            .collect();
        assert_eq!(failures, expected, "{name}");

        let sarif = output::sarif::render(&report, &catalog);
        insta::assert_snapshot!(format!("sarif-{name}"), sarif);
        let value: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        let errors: Vec<String> = sarif_schema
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: SARIF invalid: {errors:?}");
        let results = value["runs"][0]["results"].as_array().unwrap();
        let broken = report
            .pods
            .iter()
            .flat_map(|p| &p.links)
            .filter(|l| l.status > Status::Skip)
            .count();
        assert_eq!(results.len(), broken, "{name}: one result per failing link");
    }
}

/// The redacted bundle carries no namespace, pod, ServiceAccount or tenant of the original.
#[test]
fn redacted_names_do_not_appear_in_the_redacted_bundle() {
    for (name, path) in seed_worlds() {
        let world = load(&path);
        let b = bundle::build(
            &world,
            &Catalog::builtin(),
            &options(&world, Selection::All),
            true,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let yaml = output::bundle::render(&b).unwrap();
        let md = output::markdown::render(&output::handoff::gather(&b));
        let mut secret_names: Vec<String> = Vec::new();
        for p in &analyze(&world).pods {
            secret_names.push(format!(": {}\n", p.pod.name));
            secret_names.push(format!(":{}:", p.pod.namespace));
            secret_names.push(format!(":{}\"", p.service_account));
        }
        secret_names.extend(world.info.tenant_id.clone());
        for s in secret_names.iter().filter(|s| !s.contains("default")) {
            assert!(
                !yaml.contains(s.as_str()),
                "{name}: {s:?} in the redacted bundle"
            );
            assert!(
                !md.contains(s.as_str()),
                "{name}: {s:?} in the redacted Markdown"
            );
        }
        assert!(yaml.contains("redacted: true"));
        // Stable: the same world redacts to the same bundle.
        let again = bundle::build(
            &world,
            &Catalog::builtin(),
            &options(&world, Selection::All),
            true,
        )
        .unwrap();
        assert_eq!(output::bundle::render(&again).unwrap(), yaml, "{name}");
    }
}

/// The names an enterprise gives its Azure estate above the resources (issue 19): management
/// groups (ids and display names), custom roles, deny assignments and groups leave no trace in a
/// redacted bundle or its Markdown, while the chains still replay alike
/// (every_pod_bundle_replays_to_the_same_chain).
#[test]
fn redacted_bundles_hide_management_groups_custom_roles_and_deny_assignments() {
    for (world_name, names) in [
        (
            "access-mg-inherited",
            &["contoso-platform", "contoso-workloads", "Contoso platform"][..],
        ),
        ("access-custom-role", &["Contoso secret reader"][..]),
        (
            "access-deny-assignment",
            &[
                "contoso-platform",
                "Denied by deployment stack platform-secrets",
            ][..],
        ),
        (
            "access-rbac-group",
            &["platform-secret-readers", "wi-workloads"][..],
        ),
    ] {
        let path = common::root().join(format!("assets/worlds/{world_name}.yaml"));
        let world = load(&path);
        let b = bundle::build(
            &world,
            &Catalog::builtin(),
            &options(&world, Selection::All),
            true,
        )
        .unwrap();
        let yaml = output::bundle::render(&b).unwrap();
        let md = output::markdown::render(&output::handoff::gather(&b));
        for n in names {
            assert!(
                !yaml.to_lowercase().contains(&n.to_lowercase()),
                "{world_name}: {n} in the redacted bundle"
            );
            assert!(
                !md.to_lowercase().contains(&n.to_lowercase()),
                "{world_name}: {n} in the redacted Markdown"
            );
        }
        // Microsoft's names for built-in roles are not the user's and stay readable.
        if world_name == "access-rbac-group" {
            assert!(yaml.contains("Key Vault Secrets User"), "{world_name}");
        }
    }
}

#[test]
fn report_command_writes_whole_files_and_names_bad_pods() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let run = common::bin()
        .args([
            "report",
            "-w",
            "assets/worlds/seed-004-fic-namespace.yaml",
            "-f",
            "html",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("WI903"));
    // Only the report is left behind, no partial file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let missing = common::bin()
        .args([
            "report",
            "-w",
            "assets/worlds/seed-004-fic-namespace.yaml",
            "--pod",
            "apps/nope",
            "--out",
        ])
        .arg(dir.path().join("x.yaml"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("pod apps/nope is not in the world"), "{err}");
    assert!(!dir.path().join("x.yaml").exists());
}

/// A bundle whose recorded chain differs from its replay (another widiag, or an edit) says so.
#[test]
fn a_replay_that_differs_from_the_recording_is_pointed_out() {
    let world = load(&common::root().join("assets/worlds/seed-004-fic-namespace.yaml"));
    let b = all_pods(&world);
    let yaml = output::bundle::render(&b).unwrap();
    let edited = yaml.replace("brokenLink: federation", "brokenLink: access");
    assert_ne!(edited, yaml);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.yaml");
    std::fs::write(&path, edited).unwrap();
    let out = common::bin()
        .args(["check", "--color", "never", "--world"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: the bundle's writer saw it otherwise: apps/wi-kv-test: recorded as fail at access, replayed as fail at federation (WI903)"),
        "{err}"
    );
}

/// A world that records its pods as not read (a `CollectionGap`) judges nothing: every form says
/// so and none of them reads as a pass.
#[test]
fn a_world_whose_pods_were_not_read_is_unknown_in_every_form() {
    let world = parse_str(
        "gap.yaml",
        "apiVersion: widiag.io/v1\nkind: WorldInfo\ncapturedAt: '2026-11-24T10:00:00Z'\n---\n\
         apiVersion: widiag.io/v1\nkind: CollectionGap\nresource: pods\nneeded: list pods (cluster-wide)\n\
         error: '403 Forbidden: pods is forbidden'\n---\n\
         apiVersion: widiag.io/v1\nkind: CollectionGap\nresource: nodes\nneeded: list nodes (cluster-wide)\n\
         error: '403 Forbidden: nodes is forbidden'\n",
    )
    .unwrap();
    let report = analyze(&world);
    assert!(report.pods.is_empty());
    assert_eq!(report.verdict(), Status::Unknown);

    let text = output::text::render(&report, &output::text::Palette::new(false));
    assert!(
        text.starts_with(
            "? The pods could not be read, so nothing was judged: 403 Forbidden: pods is forbidden \
             (needs list pods (cluster-wide))\n"
        ),
        "{text}"
    );
    assert!(!text.contains("No pod in the selection"), "{text}");

    let json: serde_json::Value = serde_json::from_str(&output::json::render(&report)).unwrap();
    assert_eq!(json["verdict"], "unknown");

    // JUnit: a failed `cluster/pods` case when unknown fails the run, a passing one otherwise.
    let junit = output::junit::render(&report, Some(Status::Unknown));
    let parsed = quick_junit::Report::deserialize_from_str(&junit).unwrap();
    let case = &parsed.test_suites[0].test_cases[0];
    assert_eq!(
        (parsed.test_suites[0].name.as_str(), case.name.as_str()),
        ("cluster", "pods")
    );
    assert!(
        matches!(&case.status, quick_junit::TestCaseStatus::NonSuccess { ty: Some(t), .. } if t.as_str() == "not-read"),
        "{junit}"
    );
    let lenient = output::junit::render(&report, Some(Status::Fail));
    let parsed = quick_junit::Report::deserialize_from_str(&lenient).unwrap();
    assert!(matches!(
        parsed.test_suites[0].test_cases[0].status,
        quick_junit::TestCaseStatus::Success { .. }
    ));

    // SARIF: the run did not succeed, and each gap is a notification; still schema-valid.
    let sarif: serde_json::Value =
        serde_json::from_str(&output::sarif::render(&report, &Catalog::builtin())).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("schemas/sarif-2.1.0.json")).unwrap();
    let errors: Vec<String> = jsonschema::validator_for(&schema)
        .unwrap()
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let levels: Vec<&str> = invocation["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "warning"]);
}

/// The lab's behaviour documents stay with the world they came with: the world writes them back,
/// a support bundle (subset or whole, names redacted or not) never carries them.
#[test]
fn bundles_never_carry_lab_behaviour() {
    let text = std::fs::read_to_string(common::root().join("assets/worlds/seed-004-healthy.yaml"))
        .unwrap()
        + "\n---\napiVersion: widiag.io/v1\nkind: LabBehaviour\npropagating: [planted-fic]\n";
    let world = parse_str("seed-004.yaml", &text).unwrap();
    assert_eq!(world.extensions.len(), 1);
    let written = write::to_yaml(&write::documents(&world)).unwrap();
    assert!(written.contains("kind: LabBehaviour"), "{written}");
    for redact in [false, true] {
        let b = bundle::build(
            &world,
            &Catalog::builtin(),
            &options(&world, Selection::All),
            redact,
        )
        .unwrap();
        assert!(b.world.extensions.is_empty());
        let yaml = output::bundle::render(&b).unwrap();
        assert!(!yaml.contains("LabBehaviour") && !yaml.contains("planted-fic"));
    }
}
