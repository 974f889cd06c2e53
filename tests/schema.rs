//! assets/world.schema.json accepts every shipped world and the documented example, and rejects
//! documents the loader rejects.

mod common;

use widiag::world::parse::documents;

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(common::root().join("assets/world.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn errors(v: &jsonschema::Validator, name: &str, text: &str) -> Vec<String> {
    documents(name, text)
        .expect("parses")
        .iter()
        .enumerate()
        .flat_map(|(i, d)| {
            v.iter_errors(d)
                .map(move |e| format!("{name} document {}: {} at {}", i + 1, e, e.instance_path()))
        })
        .collect()
}

#[test]
fn every_shipped_world_and_the_docs_example_validate() {
    let v = validator();
    let mut files = common::worlds()
        .into_iter()
        .map(|(_, p)| p)
        .collect::<Vec<_>>();
    files.push(common::root().join("docs/world-example.yaml"));
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let errs = errors(&v, &path.display().to_string(), &text);
        assert!(errs.is_empty(), "{errs:#?}");
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let v = validator();
    for bad in [
        "apiVersion: widiag.io/v1\nkind: WorldInfo\ncapturedAt: yesterday-ish\nsurprise: 1\n",
        "apiVersion: widiag.io/v1\nkind: CapturedToken\npod: {namespace: a}\n",
        "apiVersion: widiag.io/v1\nkind: Mystery\n",
        "name: x\nvalue: 3\n",
        "id: /subscriptions/s/x\nname: f\ntype: Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials\nproperties: {issuer: https://i/}\n",
        "- audiences: [a]\n  issuer: https://i/\n  name: fic\n  subject: s\n",
        // Issue 19's documents: a deny assignment without its scope, a role definition whose
        // permissions are not blocks, a group without its id.
        "id: /subscriptions/s/providers/Microsoft.Authorization/denyAssignments/d\nname: d\ntype: Microsoft.Authorization/denyAssignments\nproperties: {principals: []}\n",
        "id: /subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/r\nname: r\ntype: Microsoft.Authorization/roleDefinitions\nproperties: {permissions: read-everything}\n",
        "\"@odata.type\": \"#microsoft.graph.group\"\ndisplayName: g\n",
    ] {
        assert!(
            !errors(&v, "bad", bad).is_empty(),
            "schema accepted:\n{bad}"
        );
        assert!(
            widiag::world::parse::parse_str("bad", bad).is_err(),
            "loader accepted:\n{bad}"
        );
    }
}

/// Every lab behaviour, in two documents: schema and loader accept it, the later document adds
/// to the earlier one, and the world writes it back the same.
#[test]
fn lab_behaviours_validate_and_merge() {
    let text = "apiVersion: widiag.io/v1\nkind: LabBehaviour\n\
        kubeUsers: [{name: reader, allow: [{verbs: [list], resources: ['*']}]}]\n\
        entra: {failFirst: 1}\nazureDenied: [graph]\npropagating: [fic]\n\
        kubeDelays: [{resources: [pods], millis: 10}]\n---\n\
        apiVersion: widiag.io/v1\nkind: LabBehaviour\n\
        azureReads: {failFirst: 2, status: 503, retryAfter: 3}\nkubeReads: {failFirst: 4}\n\
        issuer: {hangMillis: 5}\ndropWatches: true\n";
    let errs = errors(&validator(), "lab.yaml", text);
    assert!(errs.is_empty(), "{errs:#?}");
    let world = widiag::world::parse::parse_str("lab.yaml", text).unwrap();
    let lab = &widiag::lab::behaviour::of(&world).unwrap();
    assert_eq!(lab.kube_users.len(), 1);
    assert_eq!(lab.entra.as_ref().map(|t| t.fail_first), Some(1));
    let azure = lab.azure_reads.as_ref().unwrap();
    assert_eq!(
        (azure.fail_first, azure.status, azure.retry_after),
        (2, 503, 3)
    );
    let kube = lab.kube_reads.as_ref().unwrap();
    assert_eq!(
        (kube.fail_first, kube.status, kube.retry_after),
        (4, 429, 1)
    );
    assert_eq!(lab.issuer.as_ref().and_then(|i| i.hang_millis), Some(5));
    assert!(lab.drop_watches);
    let again = widiag::world::parse::parse_str(
        "written.yaml",
        &widiag::world::write::to_yaml(&widiag::world::write::documents(&world)).unwrap(),
    )
    .unwrap();
    assert_eq!(widiag::lab::behaviour::of(&again).unwrap(), *lab);

    // The world keeps the document uninterpreted; the lab names where it is wrong.
    let unknown = "apiVersion: widiag.io/v1\nkind: WorldInfo\n---\n\
        apiVersion: widiag.io/v1\nkind: LabBehaviour\nazureReads: {failFirst: 1, often: true}\n";
    assert!(!errors(&validator(), "bad", unknown).is_empty());
    let world = widiag::world::parse::parse_str("bad.yaml", unknown).unwrap();
    let err = widiag::lab::behaviour::of(&world).unwrap_err().to_string();
    assert_eq!(
        err,
        "bad.yaml:4:1: document 2: LabBehaviour field `azureReads.often`: unknown field `often`, expected one of `failFirst`, `status`, `retryAfter`, `message`"
    );
    let spawned = widiag::lab::LabHandle::spawn(world)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(spawned.to_string(), err);
}

/// What `widiag report` writes is a world file, so the schema accepts it (with live facts too:
/// tests/live.rs replays such bundles).
#[test]
fn support_bundles_validate() {
    use widiag::analysis::{Catalog, Options, Selection};
    let v = validator();
    for (name, path) in common::worlds() {
        let world = common::load(&path);
        let options = Options {
            selection: Selection::All,
            now: world.info.captured_at.unwrap(),
            targets: Vec::new(),
        };
        for redact in [false, true] {
            let b = match widiag::bundle::build(&world, &Catalog::builtin(), &options, redact) {
                Err(widiag::bundle::BundleError::NoPods(_)) => continue,
                other => other.unwrap_or_else(|e| panic!("{name}: {e}")),
            };
            let text = widiag::output::bundle::render(&b).unwrap();
            let errs = errors(&v, &name, &text);
            assert!(errs.is_empty(), "{name} (redacted: {redact}): {errs:#?}");
        }
    }
}
