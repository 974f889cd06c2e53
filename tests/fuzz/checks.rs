#![allow(dead_code)] // Each fuzz target uses one of these checks.

//! The properties the fuzz targets check, shared by `fuzz/fuzz_targets/*` (libFuzzer drives
//! them) and `tests/fuzz_regressions.rs` (every corpus seed and past crash, on every test run).

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::{ObjectList, WatchEvent};
use widiag::analysis::{Catalog, Options, Selection, analyze};
use widiag::world::parse::parse_str;
use widiag::world::write;

/// A world file from anywhere: a world or a located error, never a panic; whatever loads writes
/// back out, loads again and analyses the same (the support-bundle path).
pub fn world_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(world) = parse_str("fuzz.yaml", text) else {
        return;
    };
    let options = Options {
        selection: Selection::All,
        now: jiff::Timestamp::UNIX_EPOCH,
        targets: Vec::new(),
    };
    let report = analyze(&world, &Catalog::builtin(), &options);
    let yaml = write::to_yaml(&write::documents(&world)).expect("a loaded world writes out");
    let again = parse_str("written.yaml", &yaml)
        .unwrap_or_else(|e| panic!("a written world must load again: {e}\n{yaml}"));
    let mut replay = analyze(&again, &Catalog::builtin(), &options);
    replay.ignored.clone_from(&report.ignored);
    assert_eq!(report, replay, "a written world analyses the same");
}

/// Captured tokens and access tokens are decoded unverified: claims or an error, never a panic.
pub fn jwt_decode(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = widiag::world::facts::decode_unverified(text);
    let _ = widiag::probe::exchange::claims_of(text);
}

/// Entra's error bodies (and whatever a proxy puts in their place) become an EntraError.
pub fn entra_error(data: &[u8]) {
    let Some((&status, body)) = data.split_first() else {
        return;
    };
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let e = widiag::probe::exchange::entra_error(400 + u16::from(status), &body, None);
    let _ = e.aadsts();
}

/// List and watch answers, decoded as kube-rs decodes them for the collector, and list pages fed
/// to the world loader as live collection feeds them.
pub fn kube_list_watch(data: &[u8]) {
    let _ = serde_json::from_slice::<ObjectList<Pod>>(data);
    let _ = serde_json::from_slice::<ObjectList<ServiceAccount>>(data);
    for line in data.split(|b| *b == b'\n') {
        let _ = serde_json::from_slice::<WatchEvent<Pod>>(line);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut world = widiag::world::World::default();
        let _ = widiag::world::parse::parse_more(&mut world, "list page", text);
    }
}

/// Untrusted text shown to a person (src/untrusted/visible.rs): nothing hidden survives, and a
/// text without hidden characters is shown as it is.
pub fn sanitise(data: &[u8]) {
    use widiag::untrusted::visible::{is_hidden, visible};
    let Ok(v) = std::str::from_utf8(data) else {
        return;
    };
    let shown = visible(v);
    assert!(!shown.chars().any(is_hidden), "{shown:?}");
    if !v.chars().any(is_hidden) {
        assert_eq!(shown, v);
    }
}

/// Untrusted text filled into a fix (src/untrusted/shell.rs) in every quoting context splits,
/// under a POSIX shell-words parser, into exactly the argv meant: the value whole, never more
/// words, never a command; a value with hidden characters is never pasted.
pub fn fix_quoting(data: &[u8]) {
    use std::borrow::Cow;
    use widiag::untrusted::shell::{Filled, fill};
    use widiag::untrusted::visible::is_hidden;
    let Ok(v) = std::str::from_utf8(data) else {
        return;
    };
    // `$(...)` stands bare: a shell-words parser does not read inside a `"$(...)"` as a shell does
    // (bash runs the adversarial world's fixes with such substitutions in tests/untrusted.rs).
    let template = "cmd x={audience} --p '{\"a\":\"{subject}\"}' --d \"{target}\" --s '{fixed}' $(inner {needed})";
    let fix = fill(template, |_| Some(Filled::Value(Cow::Borrowed(v))));
    assert!(!fix.chars().any(is_hidden), "{fix:?}");
    if v.chars().any(is_hidden) {
        assert!(
            !fix.contains(v),
            "a value with hidden characters was pasted: {fix:?}"
        );
        return;
    }
    let words = shlex::split(&fix).unwrap_or_else(|| panic!("unbalanced: {fix}"));
    assert_eq!(words.len(), 10, "{fix}\n{words:?}");
    assert_eq!(words[1], format!("x={v}"));
    let json: serde_json::Value =
        serde_json::from_str(&words[3]).unwrap_or_else(|e| panic!("{e}: {}", words[3]));
    assert_eq!(json["a"].as_str(), Some(v));
    assert_eq!((words[5].as_str(), words[7].as_str()), (v, v));
    assert_eq!(words[9], format!("{v})"));
}

/// A secret planted in any text (src/untrusted/secrets.rs) never survives redaction.
pub fn redaction(data: &[u8]) {
    let Ok(v) = std::str::from_utf8(data) else {
        return;
    };
    if v.contains("PLANTED") {
        return;
    }
    let key = "PLANTED".to_string() + &"k".repeat(79) + "==";
    for planted in [
        format!("{v};AccountKey=PLANTEDKEY;{v}"),
        format!("{v} https://a.blob.core.windows.net/c?sv=1&sig=PLANTEDSIG {v}"),
        format!("{v} eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.PLANTEDSIG {v}"),
        format!("{v}\n-----BEGIN PRIVATE KEY-----\nPLANTED\n-----END PRIVATE KEY-----\n{v}"),
        format!("{v} {key} {v}"),
        format!("{v} postgres://u:PLANTED@db/x {v}"),
    ] {
        let r = widiag::untrusted::secrets::redact(&planted);
        assert!(!r.contains("PLANTED"), "{planted:?} -> {r:?}");
    }
}
