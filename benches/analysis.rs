//! Load and analysis time for generated worlds (docs/perf.md).
//! `cargo bench --bench analysis`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use widiag::analysis::{Catalog, Options, Selection, analyze};
use widiag::world::generate::{Sizes, world_yaml};
use widiag::world::parse::parse_str;

// The allocator the binary ships (src/main.rs): measure what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn sizes(pods: usize) -> Sizes {
    // The shape: 10,000 pods, 2,000 service accounts, 500 identities with 3 FICs each.
    Sizes {
        pods,
        service_accounts: pods / 5,
        identities: pods / 20,
        fics_per_identity: 3,
        namespaces: 50,
    }
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let mut load = c.benchmark_group("load");
    load.sample_size(10);
    for pods in [1_000, 10_000] {
        let text = world_yaml(sizes(pods));
        load.bench_with_input(BenchmarkId::from_parameter(pods), &text, |b, t| {
            b.iter(|| parse_str("gen.yaml", t).unwrap())
        });
    }
    load.finish();
    let mut analysis = c.benchmark_group("analyze");
    analysis.sample_size(20);
    for pods in [1_000, 10_000] {
        let world = parse_str("gen.yaml", &world_yaml(sizes(pods))).unwrap();
        let options = Options {
            selection: Selection::All,
            now: world.info.captured_at.unwrap(),
            targets: vec![],
        };
        analysis.bench_with_input(BenchmarkId::from_parameter(pods), &world, |b, w| {
            // Freeing a report is not analysis; the CLI exits without it.
            b.iter_with_large_drop(|| analyze(w, &catalog, &options))
        });
    }
    analysis.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
