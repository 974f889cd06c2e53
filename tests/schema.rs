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
