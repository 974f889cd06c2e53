//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use widiag::analysis::{self, Catalog, Options, Report, Selection};
use widiag::world::World;
use widiag::world::parse::parse_str;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every world shipped in assets/worlds, sorted by name.
pub fn worlds() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("assets/worlds"))
        .expect("assets/worlds")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

pub fn load(path: &Path) -> World {
    let text = std::fs::read_to_string(path).expect("world file");
    // A path relative to the package, so reports do not depend on where the checkout lives.
    let name = path
        .strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    parse_str(&name, &text).unwrap_or_else(|e| panic!("{e}"))
}

pub fn analyze(world: &World) -> Report {
    let options = Options {
        selection: Selection::All,
        now: world
            .info
            .captured_at
            .expect("test worlds carry capturedAt"),
        targets: Vec::new(),
    };
    analysis::analyze(world, &Catalog::builtin(), &options)
}

pub fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_widiag"));
    c.current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    c
}

/// Every `.rs` file below `dir`.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// A lab serving `assets/worlds/{name}.yaml`.
pub fn spawn_lab(name: &str) -> widiag::lab::LabHandle {
    let world = load(&root().join("assets/worlds").join(format!("{name}.yaml")));
    widiag::lab::LabHandle::spawn(world).expect("lab starts")
}

/// seed-004-healthy with a `LabBehaviour` document appended, served by a lab.
pub fn lab_with(behaviour: &str) -> widiag::lab::LabHandle {
    lab_of("seed-004-healthy", behaviour)
}

/// The lab on the embedded world `world` with a `LabBehaviour` document (its body) added.
pub fn lab_of(world: &str, behaviour: &str) -> widiag::lab::LabHandle {
    let path = root().join(format!("assets/worlds/{world}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n---\napiVersion: widiag.io/v1\nkind: LabBehaviour\n"
        + behaviour;
    widiag::lab::LabHandle::spawn(parse_str("behaviour.yaml", &text).unwrap()).unwrap()
}

/// The env a client needs to reach the lab by real host names (HTTPS_PROXY, the CA files),
/// with `ca.pem` and `lab.env` written into `dir`.
pub fn client_env(lab: &widiag::lab::LabHandle, dir: &Path) -> Vec<(String, String)> {
    let env = lab.write_client_files(dir).expect("client files");
    std::fs::read_to_string(env)
        .expect("lab.env")
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// The `KEY=value` lines of an env file the lab writes (`reader.env`, `pod.env`).
pub fn read_env(path: &Path) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(path)
        .expect("env file")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// [`client_env`] plus the lab's reader principal (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`,
/// `AZURE_CLIENT_SECRET` from `reader.env`): what `widiag` needs to read the lab's cluster and Azure.
pub fn lab_env(lab: &widiag::lab::LabHandle, dir: &Path) -> Vec<(String, String)> {
    let mut env = client_env(lab, dir);
    env.extend(read_env(&dir.join("reader.env")));
    env
}

/// The real binary with `kubeconfig_text` and the proxy, CA and reader credential the lab
/// writes, plus `extra_env`.
pub fn widiag_against(
    lab: &widiag::lab::LabHandle,
    kubeconfig_text: &str,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kubeconfig_text).unwrap();
    bin()
        .args(args)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env_remove("KUBECONFIG")
        .envs(lab_env(lab, dir.path()))
        .envs(extra_env.iter().copied())
        .output()
        .unwrap()
}

/// The TUI's screen at `width` x `height` as text, one line per row, trailing blanks trimmed.
pub fn screen(m: &widiag::tui::Model, width: u16, height: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    t.draw(|f| widiag::tui::view::draw(f, m, widiag::tui::Theme { color: false }))
        .unwrap();
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A projected-style token for `ns/sa`, minted by the lab's TokenRequest through kube-rs.
pub async fn mint_token(lab: &widiag::lab::LabHandle, ns: &str, sa: &str) -> String {
    use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
    widiag::collect::install_crypto();
    let client =
        kube::Client::try_from(kube::Config::new(lab.kube_url().parse().unwrap())).unwrap();
    let req = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec!["api://AzureADTokenExchange".into()],
            expiration_seconds: Some(3600),
            bound_object_ref: None,
        },
        ..Default::default()
    };
    kube::Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(client, ns)
        .create_token_request(sa, &kube::api::PostParams::default(), &req)
        .await
        .expect("TokenRequest")
        .status
        .expect("token")
        .token
}

/// One link of one pod (`NAMESPACE/NAME`) in a `check -o json` report.
pub fn json_link<'r>(
    report: &'r serde_json::Value,
    pod: &str,
    link: &str,
) -> &'r serde_json::Value {
    let p = report["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            format!(
                "{}/{}",
                p["namespace"].as_str().unwrap(),
                p["name"].as_str().unwrap()
            ) == pod
        })
        .unwrap_or_else(|| panic!("{pod} not in report"));
    p["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == link)
        .unwrap_or_else(|| panic!("{pod} has no link {link}"))
}

/// A key pressed with no modifier, as the TUI's update takes it.
pub fn key(c: crossterm::event::KeyCode) -> widiag::tui::Msg {
    widiag::tui::Msg::Key(crossterm::event::KeyEvent::new(
        c,
        crossterm::event::KeyModifiers::NONE,
    ))
}

/// The TUI's model on an embedded world, on a screen of this size.
pub fn tui_model(world: &str, (width, height): (u16, u16)) -> widiag::tui::Model {
    use widiag::tui::{Model, Msg, Source, update};
    let w = load(&root().join(format!("assets/worlds/{world}.yaml")));
    let mut m = Model::new(Source::World(format!("{world}.yaml")));
    update(&mut m, Msg::Resize { width, height });
    update(&mut m, Msg::Data(analyze(&w)));
    m
}
