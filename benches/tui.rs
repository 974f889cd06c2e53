//! TUI frame times on a 10,000-pod world (docs/perf.md): the first frame after the data
//! arrives, a frame of the pods pane, a frame of the chain pane, frames that change, and a
//! filter keystroke (update + redraw), a held key's 100 presses. `cargo bench --bench tui`

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use widiag::analysis::{Catalog, Options, Selection, analyze};
use widiag::tui::{Model, Msg, Source, Theme, update};
use widiag::world::generate::{Sizes, world_yaml};
use widiag::world::parse::parse_str;

// The allocator the binary ships (src/main.rs): measure what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// The generated 10,000-pod world's report.
fn ten_thousand() -> widiag::analysis::Report {
    let sizes = Sizes {
        pods: 10_000,
        service_accounts: 2_000,
        identities: 500,
        fics_per_identity: 3,
        namespaces: 50,
    };
    let world = parse_str("gen.yaml", &world_yaml(sizes)).unwrap();
    analyze(
        &world,
        &Catalog::builtin(),
        &Options {
            selection: Selection::All,
            now: world.info.captured_at.unwrap(),
            targets: vec![],
        },
    )
}

fn bench(c: &mut Criterion) {
    let report = ten_thousand();
    let theme = Theme { color: true };
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let mut draw = |m: &Model| {
        terminal
            .draw(|f| widiag::tui::view::draw(f, m, theme))
            .unwrap();
    };
    let mut g = c.benchmark_group("tui-10k");
    g.sample_size(20);
    // The report arrives by move in the real loop, so cloning it and freeing the model
    // (about 90 ms for 10,000 chains) are outside the timed part.
    g.bench_function("data-to-first-frame", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut m = Model::new(Source::World("gen".into()));
                let r = report.clone();
                let start = Instant::now();
                update(&mut m, Msg::Data(r));
                draw(&m);
                total += start.elapsed();
                drop(m);
            }
            total
        })
    });
    // A followed cluster sends a fresh report for every change; the one it replaces is freed on
    // the UI thread, so the freeing is measured with the update and the redraw.
    g.bench_function("report-replaced", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut m = Model::new(Source::World("gen".into()));
                update(&mut m, Msg::Data(report.clone()));
                let r = report.clone();
                let start = Instant::now();
                update(&mut m, Msg::Data(r));
                draw(&m);
                total += start.elapsed();
                drop(m);
            }
            total
        })
    });
    let mut m = Model::new(Source::World("gen".into()));
    update(&mut m, Msg::Data(report.clone()));
    g.bench_function("pods-pane-frame", |b| b.iter(|| draw(&m)));
    let mut chain = m.clone();
    update(&mut chain, key(KeyCode::Enter));
    g.bench_function("chain-pane-frame", |b| b.iter(|| draw(&chain)));
    // Every cell differs from the last frame: the worst case for the terminal diff.
    g.bench_function("alternating-frames", |b| {
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            draw(if flip { &m } else { &chain });
        })
    });
    update(&mut m, key(KeyCode::Char('/')));
    g.bench_function("filter-keystroke", |b| {
        b.iter(|| {
            update(&mut m, key(KeyCode::Char('7')));
            draw(&m);
            update(&mut m, key(KeyCode::Backspace));
        })
    });
    g.finish();
}

/// A held key: 100 presses that arrived during one frame, coalesced into one move and drawn
/// once (the run loop's batch), there and back.
fn held_key(c: &mut Criterion) {
    let mut held = Model::new(Source::World("gen".into()));
    update(&mut held, Msg::Data(ten_thousand()));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    let k = KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE);
    let mut down = true;
    let mut g = c.benchmark_group("tui-10k");
    g.sample_size(20);
    g.bench_function("held-key-100-presses", |b| {
        b.iter(|| {
            let presses = (0..100)
                .map(|_| Msg::Key(if down { j } else { k }))
                .collect();
            for msg in widiag::tui::update::coalesce(presses) {
                update(&mut held, msg);
            }
            terminal
                .draw(|f| widiag::tui::view::draw(f, &held, Theme { color: true }))
                .unwrap();
            down = !down;
        })
    });
    g.finish();
}

criterion_group!(benches, bench, held_key);
criterion_main!(benches);
