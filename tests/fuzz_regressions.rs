//! Every fuzz corpus seed and every input that once crashed a fuzz target, run through the
//! target's checks on each test run (no libFuzzer needed). A crash found by `scripts/fuzz`
//! becomes a file in fuzz/regressions/TARGET/ and so a regression test.

#[path = "fuzz/checks.rs"]
mod checks;
mod common;

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 7] = [
    ("world_loader", checks::world_loader),
    ("jwt_decode", checks::jwt_decode),
    ("entra_error", checks::entra_error),
    ("kube_list_watch", checks::kube_list_watch),
    ("sanitise", checks::sanitise),
    ("fix_quoting", checks::fix_quoting),
    ("redaction", checks::redaction),
];

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_seed_and_past_crash_passes_its_target() {
    let root = common::root();
    let mut ran = 0;
    for (target, check) in TARGETS {
        let mut inputs = files(&root.join("fuzz/regressions").join(target));
        inputs.extend(files(&root.join("fuzz/seeds").join(target)));
        if target == "world_loader" {
            // The shipped worlds are the loader's seeds.
            inputs.extend(common::worlds().into_iter().map(|(_, p)| p));
        }
        for path in inputs {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(
                result.is_ok(),
                "{target}: {} fails its check",
                path.display()
            );
            ran += 1;
        }
    }
    assert!(ran >= 30, "only {ran} inputs");
}
