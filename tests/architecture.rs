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
