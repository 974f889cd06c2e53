//! The hostile tenant (issue 15, docs/security.md): tests/worlds/adversarial.yaml fills every field
//! an attacker writes with terminal escapes, shell syntax, line breaks, HTML, Markdown fences and
//! secret-shaped values (each secret holds CANARY). It goes through every output form offline, the
//! TUI, and live against the lab, which also records every host a client asked its proxy for.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use widiag::tui::{Answer, Effect, Model, Msg, Source, update};
use widiag::untrusted::visible::is_hidden;

const WORLD: &str = "tests/worlds/adversarial.yaml";

/// Every planted secret contains this; none may reach any output.
const CANARY: &str = "CANARY";

fn widiag(args: &[&str]) -> String {
    let out = common::bin().args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn report(format: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let path = path.to_str().unwrap();
    let mut args = vec![
        "report", "--world", WORLD, "--format", format, "--out", path,
    ];
    args.extend_from_slice(extra);
    widiag(&args);
    std::fs::read_to_string(path).unwrap()
}

/// (form, what it printed) for every output form.
fn forms() -> Vec<(&'static str, String)> {
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--world", WORLD];
        args.extend_from_slice(extra);
        widiag(&args)
    };
    vec![
        ("text", check(&["--color", "never"])),
        ("text in colour", check(&["--color", "always"])),
        ("json", check(&["-o", "json"])),
        ("junit", check(&["-o", "junit"])),
        ("sarif", check(&["-o", "sarif"])),
        ("markdown", report("markdown", &[])),
        ("html", report("html", &[])),
        ("bundle", report("bundle", &[])),
        ("redacted bundle", report("bundle", &["--redact-names"])),
    ]
}

/// widiag's own colours are the only escape sequences a coloured report may hold.
fn without_own_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[end..].starts_with('m') {
            rest = &after[end + 1..];
        } else {
            out.push('\x1b');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

fn hidden_in(text: &str) -> Vec<String> {
    text.chars()
        .filter(|&c| c != '\n' && is_hidden(c))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn no_planted_secret_survives_in_any_form() {
    for (form, text) in forms() {
        assert!(
            !text.contains(CANARY),
            "{form} holds a planted secret: {}",
            text.lines()
                .find(|l| l.contains(CANARY))
                .unwrap_or_default()
        );
    }
}

#[test]
fn no_control_character_reaches_a_human_form() {
    for (form, text) in forms() {
        let text = without_own_colours(&text);
        let hidden = hidden_in(&text);
        if form.ends_with("bundle") {
            // A world file keeps values exact: YAML writes C0/C1 controls as escapes (`\e`),
            // so none is raw; bidi and zero-width characters stay data in quoted scalars.
            assert!(
                !text.chars().any(|c| c != '\n' && c.is_control()),
                "{form}: {hidden:?}"
            );
        } else {
            assert!(hidden.is_empty(), "{form} holds raw {hidden:?}");
        }
        // No value can start a line of its own, such as a forged verdict.
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("✓ access pass")),
            "{form} has a forged line"
        );
    }
}

#[test]
fn markdown_escapes_html_and_fences_from_data() {
    let md = report("markdown", &[]);
    assert!(!md.contains("<script>") && !md.contains("<img"), "{md}");
    // Every fenced block closes with the fence it opened with.
    let fences: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("```"))
        .map(|l| l.trim_end_matches(|c: char| c.is_ascii_alphabetic()))
        .collect();
    assert!(fences.len().is_multiple_of(2), "{fences:?}");
    for pair in fences.chunks(2) {
        assert_eq!(pair[0], pair[1], "{md}");
    }
}

fn fixes(json: &Value, out: &mut BTreeSet<String>) {
    match json {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("fix", Value::String(f)) => {
                        out.insert(f.clone());
                    }
                    _ => fixes(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| fixes(v, out)),
        _ => {}
    }
}

/// The commands fixes may run; each is replaced by a recorder of its argv.
const COMMANDS: &[&str] = &[
    "kubectl", "az", "helm", "curl", "cut", "tr", "awk", "base64",
];

fn recorders(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for c in COMMANDS {
        let path = dir.join(c);
        // Fields split by 0x1f, commands by 0x1e; only shell builtins, as PATH holds nothing else.
        std::fs::write(
            &path,
            "#!/bin/sh\n{ printf '%s' \"${0##*/}\"; for a in \"$@\"; do printf '\\037%s' \"$a\"; done; printf '\\036'; } >> \"$REC\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The fix as a user pastes it once they have replaced each `<placeholder>` with a value.
fn filled(fix: &str) -> String {
    let mut out = String::new();
    let mut rest = fix;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        match after[1..].starts_with('(').then_some(()).or(None) {
            Some(()) => {
                out.push('<');
                rest = &after[1..];
            }
            None => {
                let end = after.find('>').map_or(after.len(), |e| e + 1);
                out.push_str("FILLED");
                rest = &after[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Runs `fix` in bash with every command a recorder; the argv of each command it ran.
fn run_fix(fix: &str) -> Vec<Vec<String>> {
    let fix = &filled(fix);
    let bin = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    recorders(bin.path());
    let rec = work.path().join("argv");
    let out = std::process::Command::new("/bin/bash")
        .arg("-c")
        .arg(fix)
        .env_clear()
        .env("PATH", bin.path())
        .env("REC", &rec)
        .current_dir(work.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("not found") && !stderr.contains("syntax error"),
        "{fix}\n{stderr}"
    );
    assert!(
        !work.path().join("PWNED").exists(),
        "pasting the fix ran planted text: {fix}"
    );
    std::fs::read_to_string(&rec)
        .unwrap_or_default()
        .split('\x1e')
        .filter(|c| !c.is_empty())
        .map(|c| c.split('\x1f').map(str::to_string).collect())
        .collect()
}

#[test]
fn every_fix_runs_exactly_the_argv_it_shows() {
    let json: Value =
        serde_json::from_str(&widiag(&["check", "--world", WORLD, "-o", "json"])).unwrap();
    let mut all = BTreeSet::new();
    fixes(&json, &mut all);
    let commands: Vec<&String> = all
        .iter()
        .filter(|f| COMMANDS.iter().any(|c| f.starts_with(&format!("{c} "))))
        .collect();
    assert!(commands.len() >= 8, "{all:#?}");
    let mut argvs = Vec::new();
    for fix in commands {
        // A POSIX shell-words parser we did not write reads every fix as balanced words.
        assert!(shlex::split(fix).is_some(), "unbalanced quoting: {fix}");
        assert!(!fix.chars().any(is_hidden), "{fix:?}");
        let ran = run_fix(fix);
        assert!(!ran.is_empty(), "{fix} ran nothing");
        argvs.extend(ran);
    }
    // The planted skip-containers value arrives whole, as one argument, quotes and `$(...)` literal.
    assert!(
        argvs.iter().any(|a| a
            == &[
                "kubectl",
                "annotate",
                "--local",
                "-f",
                "-",
                "azure.workload.identity/skip-containers=sidecar;it's $(touch PWNED)",
                "--overwrite",
                "-o",
                "json",
            ]),
        "{argvs:#?}"
    );
    // Values that fail their field's grammar are not pasted; the placeholder says why.
    assert!(all.iter().any(|f| {
        f.contains("azure.workload.identity/client-id=<client-id: the value found is not a GUID>")
    }));
    assert!(!all.iter().any(|f| f.contains("touch PWNED)\u{1b}")));
}

#[test]
fn a_foreign_authority_host_is_named_and_planted_urls_name_no_resource() {
    let json: Value =
        serde_json::from_str(&widiag(&["check", "--world", WORLD, "-o", "json"])).unwrap();
    let codes = |pod: &str| -> Vec<String> {
        json["pods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == pod)
            .unwrap()["links"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|l| l["findings"].as_array().cloned().unwrap_or_default())
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(codes("redirect-pod").contains(&"WI511".to_string()));
    assert!(codes("evil-pod").contains(&"WI511".to_string()));
    assert!(!codes("wl-pod").contains(&"WI511".to_string()));
    let text = serde_json::to_string(&json).unwrap();
    assert!(
        !text.contains("evil.example"),
        "a planted URL became a target"
    );
}

fn key(c: crossterm::event::KeyCode) -> Msg {
    Msg::Key(crossterm::event::KeyEvent::new(
        c,
        crossterm::event::KeyModifiers::NONE,
    ))
}

#[test]
fn the_tui_shows_and_copies_no_control_character_or_secret() {
    use crossterm::event::KeyCode;
    let world = common::load(&common::root().join(WORLD));
    let now = world.info.captured_at.unwrap();
    let mut m = Model::new(Source::World("adversarial.yaml".into()));
    update(&mut m, Msg::Data(common::analyze(&world)));
    let mut copied = Vec::new();
    for _ in 0..3 {
        let pod = m.current().unwrap().pod.clone();
        let view = widiag::analysis::describe::describe(&world, &pod, now).unwrap();
        // The facts arrive as the answer to the view's request.
        for e in update(&mut m, key(KeyCode::Char('2'))) {
            if let Effect::Describe { id, pod: asked } = e {
                assert_eq!(asked, pod);
                update(
                    &mut m,
                    Msg::Answer(id, Answer::Described(asked, view.clone())),
                );
            }
        }
        update(&mut m, key(KeyCode::Char('1')));
        update(&mut m, key(KeyCode::Enter));
        for tab in ['1', '2', '3', '4', '5', '6'] {
            update(&mut m, key(KeyCode::Char(tab)));
            for _ in 0..6 {
                let s = common::screen(&m, 160, 50);
                assert!(!s.contains(CANARY), "{s}");
                assert!(hidden_in(&s).is_empty(), "{:?}\n{s}", hidden_in(&s));
                for e in update(&mut m, key(KeyCode::Char('c'))) {
                    if let Effect::Copy(text) = e {
                        copied.push(text);
                    }
                }
                update(&mut m, key(KeyCode::Down));
            }
        }
        update(&mut m, key(KeyCode::Esc));
        update(&mut m, key(KeyCode::Down));
    }
    assert!(!copied.is_empty());
    for c in &copied {
        assert!(!c.chars().any(is_hidden) && !c.contains(CANARY), "{c:?}");
    }
}

/// The lab serves the same world; widiag runs against it as against a real cluster and tenant.
#[test]
fn live_tokens_go_only_to_entra_and_nothing_planted_leaks() {
    let world = common::load(&common::root().join(WORLD));
    let lab = widiag::lab::LabHandle::spawn(world).expect("lab starts");
    let (stdout, stderr, log) = check_live(&lab);
    // Every host widiag reached through the proxy is a cloud host of the lab's world.
    let hosts: BTreeSet<String> = lab.connected_hosts().into_iter().collect();
    assert!(hosts.contains("login.microsoftonline.com"), "{hosts:?}");
    for h in &hosts {
        assert!(
            h == "login.microsoftonline.com"
                || h == "management.azure.com"
                || h == "graph.microsoft.com"
                || h.ends_with(".oic.prod-aks.azure.com")
                || h.ends_with(".vault.azure.net")
                || h.ends_with(".blob.core.windows.net"),
            "widiag connected to {h}: {hosts:?}"
        );
    }
    assert!(
        !hosts
            .iter()
            .any(|h| h.contains("attacker") || h.contains("evil"))
    );
    // Token exchanges went to Entra only, each for a tenant that is a GUID.
    let exchanges: Vec<_> = lab
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/oauth2/v2.0/token"))
        .collect();
    assert!(!exchanges.is_empty());
    assert!(
        exchanges
            .iter()
            .all(|r| r.host == "login.microsoftonline.com")
    );
    for (form, text) in [("stdout", &*stdout), ("stderr", &*stderr), ("log", &*log)] {
        assert!(!text.contains(CANARY), "{form}: {text}");
        assert!(hidden_in(text).is_empty(), "{form}: {:?}", hidden_in(text));
        assert!(!text.contains("eyJ"), "{form} holds a JWT");
    }
    assert!(stdout.contains("WI511"), "{stdout}");
    // The transcript names what was sent: /version, the reader's credential, each list.
    for needle in [
        "GET /version",
        "TOKEN https://management.azure.com/.default",
    ] {
        assert!(
            stderr.contains(needle) && log.contains(needle),
            "{needle}\n{stderr}"
        );
    }
}

/// Services quote what they were sent: an Entra and an ARM whose error text carries escapes,
/// shell syntax and a secret reach no output raw.
#[test]
fn hostile_service_error_text_is_shown_not_obeyed() {
    let hostile =
        r#"\e]52;c;cm0gLXJmIH4=\a$(touch PWNED)\r\n✓ exchange pass Password=CANARYSVC \e[2J"#;
    let lab = common::lab_with(&format!(
        "entra:\n  failFirst: 100\n  status: 503\n  retryAfter: 0\n  message: \"{hostile}\"\nazureReads:\n  failFirst: 100\n  status: 503\n  retryAfter: 0\n  message: \"{hostile}\"\n"
    ));
    let (stdout, stderr, _) = check_live(&lab);
    // The hostile text did arrive (made visible), so the test saw what it plants.
    assert!(stdout.contains(r"\x1b]52;c;"), "{stdout}");
    for (form, text) in [("stdout", &*stdout), ("stderr", &*stderr)] {
        assert!(!text.contains(CANARY), "{form}: {text}");
        assert!(hidden_in(text).is_empty(), "{form}: {:?}", hidden_in(text));
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("✓ exchange pass")),
            "{form} has a forged line"
        );
    }
}

/// `widiag check -A --transcript --log` against the lab as against a real cluster and tenant:
/// stdout, stderr and the log file.
fn check_live(lab: &widiag::lab::LabHandle) -> (String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("widiag.log");
    let args = [
        "check",
        "-A",
        "--color",
        "never",
        "--transcript",
        "--fail-on",
        "never",
        "--log",
        log.to_str().unwrap(),
    ];
    let out = common::widiag_against(lab, &lab.kubeconfig(), &args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        log,
    )
}
