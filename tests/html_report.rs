//! The HTML report opened in headless Chromium: it renders the chain (read back from the page
//! Chromium prints) and a screenshot is kept as a test artifact (target/test-artifacts/).

mod common;

use std::path::Path;
use std::process::Command;

use widiag::analysis::{Catalog, Options, Selection};
use widiag::{bundle, output};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn headless(browser: &str, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    // The flags a closed network needs: no background fetches, no first-run, no sandbox as root.
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Runs Chromium to completion; its stderr is the failure message.
fn run(command: &mut Command) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The bundle `widiag` would hand off for a world of assets/worlds, as of its capture.
fn bundle_of(world: &str) -> bundle::Bundle {
    let w = common::load(&common::root().join(format!("assets/worlds/{world}.yaml")));
    let opts = Options {
        selection: Selection::All,
        now: w.info.captured_at.unwrap(),
        targets: Vec::new(),
    };
    bundle::build(&w, &Catalog::builtin(), &opts, false).unwrap()
}

/// Chromium's screenshot of the page, kept as a test artifact; it must not be blank.
fn screenshot(browser: &str, profile: &Path, url: &str, shot: &Path, world: &str) {
    let _ = std::fs::remove_file(shot);
    run(headless(browser, profile)
        .arg("--window-size=1200,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url));
    let png = std::fs::read(shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{world}: blank screenshot?"
    );
}

/// What a reader sees: Chromium lays the page out and prints it; pdftotext reads it back.
fn printed_text(browser: &str, profile: &Path, url: &str, pdf: &Path) -> String {
    run(headless(browser, profile)
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(url));
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test installs it)");
    String::from_utf8_lossy(&text.stdout).into_owned()
}

#[test]
fn html_report_renders_the_chain_in_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required under CI (scripts/test installs it)"
        );
        eprintln!("skipped: no Chromium (scripts/test installs it)");
        return;
    };
    let artifacts = common::root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for world in ["seed-004-fic-namespace", "seed-003-duplicate-webhook"] {
        let b = bundle_of(world);
        let html = output::html::render(&output::handoff::gather(&b));
        let page = dir.path().join(format!("{world}.html"));
        std::fs::write(&page, &html).unwrap();
        let url = format!("file://{}", page.display());
        let profile = dir.path().join("profile");
        screenshot(
            browser,
            &profile,
            &url,
            &artifacts.join(format!("html-report-{world}.png")),
            world,
        );
        let text = printed_text(
            browser,
            &profile,
            &url,
            &dir.path().join(format!("{world}.pdf")),
        );
        let pod = &b.report.pods[0];
        let broken = pod.broken_link().unwrap();
        let code = broken.primary().unwrap().code.to_string();
        for needle in [
            pod.pod.name.as_str(),
            "service-account",
            "federation",
            "resource",
            broken.link.name(),
            code.as_str(),
        ] {
            assert!(
                text.contains(needle),
                "{world}: {needle:?} not on the printed page:\n{text}"
            );
        }
        // Every link of the chain is a row on paper (`N  link  status`), in order.
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let order: Vec<usize> = pod
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let row = format!("{} {} {} ", i + 1, l.link.name(), l.status.name());
                flat.find(&row).unwrap_or(usize::MAX)
            })
            .collect();
        assert!(
            order.iter().all(|&i| i != usize::MAX),
            "{world}: a link is missing: {order:?}\n{text}"
        );
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "{world}: links out of order: {order:?}"
        );
    }
}
