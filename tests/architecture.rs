//! The core stays pure: the world model and the analysis do no I/O, know no terminal and use
//! `thiserror`, not `anyhow` (architecture rule in docs/architecture.md).

mod common;

const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::io::stdin",
    "std::env",
    "tokio",
    "use kube::",
    "kube::Client",
    "kube::Api",
    "reqwest",
    "ratatui",
    "crossterm",
    "anyhow",
    "anstream",
    "println!",
    "eprintln!",
    "Timestamp::now",
];

#[test]
fn core_modules_do_no_io_and_know_no_ui() {
    let mut offences = Vec::new();
    for module in ["src/world", "src/analysis"] {
        for file in common::rust_files(&common::root().join(module)) {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for f in FORBIDDEN {
                    if line.contains(f) {
                        offences.push(format!("{}:{}: {f}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn front_ends_only_render() {
    // Renderers take a finished report; they never call into the analysis.
    for file in common::rust_files(&common::root().join("src/output")) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("analyze("),
            "{} runs analysis",
            file.display()
        );
        assert!(
            !text.contains("std::fs"),
            "{} touches files",
            file.display()
        );
    }
}

#[test]
fn generated_worlds_load_and_fault_one_pod_in_twenty() {
    use widiag::world::generate::{Sizes, world_yaml};
    let sizes = Sizes {
        pods: 200,
        service_accounts: 40,
        identities: 10,
        fics_per_identity: 4,
        namespaces: 5,
    };
    let text = world_yaml(sizes);
    assert_eq!(text, world_yaml(sizes), "deterministic");
    let world = widiag::world::parse::parse_str("gen.yaml", &text).unwrap();
    assert_eq!(
        (
            world.kube.pods.len(),
            world.kube.service_accounts.len(),
            world.azure.identities.len()
        ),
        (200, 40, 10)
    );
    assert_eq!(world.azure.federated_credentials.len(), 40);
    let report = common::analyze(&world);
    let stale = report
        .pods
        .iter()
        .filter(|p| p.codes().contains(&"WI504"))
        .count();
    assert_eq!(stale, 10, "pods 7, 27, 47, ... carry a stale client ID");
    let passing = report
        .pods
        .iter()
        .filter(|p| p.verdict() == widiag::analysis::Status::Pass)
        .count();
    assert_eq!(passing, 190);
}

/// Which top-level module may name which (`crate::x` paths, grouped `use crate::{a, b}` forms
/// included). The graph is acyclic: the core (world, analysis) and the trust boundary
/// (untrusted) name no I/O layer; collect and probe share `net` instead of each other's code;
/// the lab, checked by clients widiag did not write, shares nothing with the prober or collector.
const LAYERS: &[(&str, &[&str])] = &[
    ("world", &[]),
    ("untrusted", &[]),
    ("analysis", &["world", "untrusted"]),
    ("bundle", &["world", "untrusted", "analysis"]),
    ("output", &["world", "untrusted", "analysis", "bundle"]),
    ("net", &["world", "untrusted"]),
    ("probe", &["world", "untrusted", "analysis", "net"]),
    (
        "collect",
        &["world", "untrusted", "analysis", "net", "probe"],
    ),
    // The lab emulates Kubernetes and Azure by its own reading of them (its own RBAC table,
    // its own kubelet projection), so no rule of the analysis can vouch for itself in tests.
    ("lab", &["world", "untrusted"]),
    (
        "tui",
        &[
            "world",
            "untrusted",
            "analysis",
            "bundle",
            "output",
            "net",
            "collect",
        ],
    ),
    (
        "cli",
        &[
            "world",
            "untrusted",
            "analysis",
            "bundle",
            "output",
            "net",
            "probe",
            "collect",
            "lab",
            "tui",
        ],
    ),
];

/// The top-level modules a Rust source names through `crate::`.
fn named_modules(code: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let heads: Vec<&str> = match rest.strip_prefix('{') {
            // `crate::{a::x, b::{y, z}}`: the first segment of every item of the group.
            Some(group) => top_level_items(group),
            None => vec![rest],
        };
        for h in heads {
            let name: String = h
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The items of a `{...}` group (its opening brace already read), split at its own commas only.
fn top_level_items(group: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(group[start..i].trim());
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(group[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(group[start..].trim());
    items
}

#[test]
fn modules_name_only_the_layers_below_them() {
    let known: Vec<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    let mut offences = Vec::new();
    for (module, allowed) in LAYERS {
        let dir = common::root().join("src").join(module);
        for file in common::rust_files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            for named in named_modules(&code) {
                let layer = known.contains(&named.as_str());
                if layer && named != *module && !allowed.contains(&named.as_str()) {
                    offences.push(format!("{}: {module} names {named}", file.display()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
    // Every top-level module has a row, so a new one cannot slip past the table.
    for entry in std::fs::read_dir(common::root().join("src")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                known.contains(&name.as_str()),
                "src/{name} has no row in LAYERS"
            );
        }
    }
}

#[test]
fn the_layer_parser_reads_grouped_and_plain_paths() {
    let names = named_modules(
        "use crate::{analysis::Report, world::{ObjRef, World}};\nlet x = crate::probe::run();",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["analysis", "probe", "world"]
    );
}

/// Keys are bound in one table (src/tui/keymap.rs): dispatch, help and footer all read it.
#[test]
fn no_key_is_matched_outside_the_keymap() {
    let mut offences = Vec::new();
    for file in common::rust_files(&common::root().join("src")) {
        if file.ends_with("tui/keymap.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("KeyCode") {
            offences.push(file.display().to_string());
        }
    }
    assert!(offences.is_empty(), "{offences:?}");
}
