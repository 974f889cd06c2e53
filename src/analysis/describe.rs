//! The facts behind one pod's chain, laid out for inspection (the TUI's ServiceAccount, env,
//! credentials, token and probes views): what is there, next to what it should be. Pure, like
//! the rest of the analysis; judging stays with the links, this only shows.

use k8s_openapi::api::core::v1::Container;

use super::Status;
use super::compare;
use super::index::Index;
use super::subject::Subject;
use super::webhook::{self, Install};
use crate::world::{ObjRef, World};

/// One line of a view: a label, its value, and how it compares with what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub value: String,
    pub status: Option<Status>,
    /// What it should be, or where it came from.
    pub note: Option<String>,
}

impl Row {
    fn fact(label: impl Into<String>, value: impl Into<String>) -> Row {
        Row {
            label: label.into(),
            value: value.into(),
            status: None,
            note: None,
        }
    }

    fn judged(label: impl Into<String>, value: impl Into<String>, status: Status) -> Row {
        Row {
            status: Some(status),
            ..Row::fact(label, value)
        }
    }

    fn note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }
}

/// The views of one pod, in the order the TUI's tabs show them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodView {
    pub service_account: Vec<Row>,
    pub env: Vec<Row>,
    pub credentials: Vec<Row>,
    pub token: Vec<Row>,
    pub probes: Vec<Row>,
}

/// The pod by name; a workload with no pod is shown as the pod its template would make (its
/// chain's name), which is then owned.
fn pod_or_would_be<'w>(
    world: &'w World,
    pod: &ObjRef,
) -> Option<std::borrow::Cow<'w, k8s_openapi::api::core::v1::Pod>> {
    let found = world.kube.pods.iter().find(|p| {
        p.metadata.name.as_deref() == Some(&pod.name)
            && p.metadata.namespace.as_deref().unwrap_or("default") == pod.namespace
    });
    match found {
        Some(p) => Some(std::borrow::Cow::Borrowed(p)),
        None => super::workloads::would_be_named(world, pod).map(std::borrow::Cow::Owned),
    }
}

pub fn describe(world: &World, pod: &ObjRef, now: jiff::Timestamp) -> Option<PodView> {
    let ix = Index::new(world);
    let install = Install::detect(&ix);
    let the_pod = pod_or_would_be(world, pod)?;
    let mut s = Subject::new(&ix, &install, &the_pod);
    s.template_only = matches!(the_pod, std::borrow::Cow::Owned(_));
    Some(PodView {
        service_account: service_account(world, &s),
        env: env(&s, &install),
        credentials: credentials(&ix, &s),
        token: token(&s, now),
        probes: probes(world, pod),
    })
}

/// The objects behind one pod's chain, as the world holds them: what `y` and `d` show.
pub struct Objects {
    /// The pod, or the pod its workload's template would make.
    pub pod: k8s_openapi::api::core::v1::Pod,
    pub service_account: Option<k8s_openapi::api::core::v1::ServiceAccount>,
    /// The resolved identity's or application's name, and its federated credentials.
    pub identity: Option<String>,
    pub credentials: Vec<crate::world::azure::FederatedCredential>,
}

pub fn objects(world: &World, pod: &ObjRef) -> Option<Objects> {
    let ix = Index::new(world);
    let install = Install::detect(&ix);
    let the_pod = pod_or_would_be(world, pod)?;
    let s = Subject::new(&ix, &install, &the_pod);
    Some(Objects {
        pod: (*the_pod).clone(),
        service_account: s.sa.cloned(),
        identity: s.resolved.map(|r| r.name()),
        credentials: s
            .resolved
            .map(|r| r.fics(&ix).iter().map(|f| (*f).clone()).collect())
            .unwrap_or_default(),
    })
}

fn service_account(world: &World, s: &Subject<'_>) -> Vec<Row> {
    let mut rows = vec![
        Row::judged(
            "ServiceAccount",
            format!("{}/{}", s.at.namespace, s.sa_name),
            if s.sa.is_some() {
                Status::Pass
            } else {
                Status::Fail
            },
        )
        .note(if s.sa.is_some() {
            "exists"
        } else {
            "not found"
        }),
    ];
    if let Some(sa) = s.sa {
        for (kind, map) in [
            ("annotation", &sa.metadata.annotations),
            ("label", &sa.metadata.labels),
        ] {
            for (k, v) in map.iter().flatten() {
                if k.starts_with("azure.workload.identity/") {
                    rows.push(Row::fact(format!("{kind} {k}"), v));
                }
            }
        }
    }
    let users: Vec<String> = world
        .kube
        .pods
        .iter()
        .filter(|p| {
            p.metadata.namespace.as_deref().unwrap_or("default") == s.at.namespace
                && p.spec
                    .as_ref()
                    .and_then(|sp| sp.service_account_name.as_deref())
                    .unwrap_or("default")
                    == s.sa_name
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    let shown: Vec<&str> = users.iter().take(5).map(String::as_str).collect();
    let more = users.len().saturating_sub(shown.len());
    rows.push(Row::fact(
        "used by",
        format!(
            "{} pod(s): {}{}",
            users.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
    ));
    if let Some(r) = s.resolved {
        rows.push(Row::fact(
            "identity",
            format!("{} ({})", r.name(), r.kind()),
        ));
    }
    rows
}

/// Per container: each variable the webhook injects, next to what it would inject now (the
/// release model's expectation, as the mutation link judges it).
fn env(s: &Subject<'_>, install: &Install<'_>) -> Vec<Row> {
    let m = webhook::admission::expected(&install.profile, &install.assumed, &s.request());
    let mut rows = Vec::new();
    if s.template_only {
        rows.push(Row::fact(
            "no pod exists",
            "what the webhook would inject into each container",
        ));
        for (name, _) in &m.env {
            let value = m.value(name).unwrap_or_default();
            rows.push(Row::fact(format!("  {name}"), value));
        }
        return rows;
    }
    for (c, init) in s.containers() {
        if m.skips(&c.name) {
            rows.push(Row::fact(
                format!("container {}", c.name),
                "skipped (skip-containers)",
            ));
            continue;
        }
        if init && !m.init_containers {
            rows.push(Row::fact(
                format!("container {}", c.name),
                "not mutated (init containers since v0.5.0)",
            ));
            continue;
        }
        rows.push(Row::fact(format!("container {}", c.name), ""));
        for (name, _) in &m.env {
            // An unknown release may be any v1 line: either token path is the webhook's.
            let also: &[String] = if *name == m.token_env {
                &install.token_paths
            } else {
                &[]
            };
            let expected = m.value(name).filter(|v| !v.is_empty());
            rows.push(env_row(c, name, expected.map(str::to_string), also));
        }
    }
    rows
}

fn env_row(c: &Container, name: &str, expected: Option<String>, also: &[String]) -> Row {
    let actual = c.env.iter().flatten().find(|e| e.name == name);
    let value = actual.and_then(|e| e.value.clone());
    match (value, expected) {
        (None, _) if actual.is_some() => {
            Row::judged(format!("  {name}"), "(from a reference)", Status::Unknown)
        }
        (None, Some(x)) => Row::judged(format!("  {name}"), "missing", Status::Fail)
            .note(format!("inject now: {x}")),
        (None, None) => Row::judged(format!("  {name}"), "missing", Status::Warn),
        (Some(v), Some(x)) if v == x || also.contains(&v) => {
            Row::judged(format!("  {name}"), v, Status::Pass)
        }
        (Some(v), Some(x)) => {
            let why = compare::explain(&v, &x).unwrap_or_default();
            Row::judged(format!("  {name}"), v, Status::Warn)
                .note(format!("inject now: {x} ({why})"))
        }
        (Some(v), None) => Row::fact(format!("  {name}"), v),
    }
}

/// The resolved identity's federated credentials against this pod's token, field by field.
fn credentials(ix: &Index<'_>, s: &Subject<'_>) -> Vec<Row> {
    let Some(r) = s.resolved else {
        return vec![
            Row::judged("identity", "not resolved", Status::Unknown).note("see the identity link"),
        ];
    };
    let fics = r.fics(ix);
    if fics.is_empty() {
        return vec![Row::judged(
            r.name(),
            "no federated credentials",
            Status::Fail,
        )];
    }
    let mut rows = Vec::new();
    let iss = s.token.iss.clone().unwrap_or_default();
    for f in fics {
        rows.push(Row::fact(format!("credential {}", f.name), ""));
        rows.push(compared("  issuer", &f.issuer, &iss));
        match &f.subject {
            Some(sub) => rows.push(compared("  subject", sub, &s.token.sub)),
            None => rows.push(Row::fact(
                "  claims expression",
                f.claims_matching_expression.clone().unwrap_or_default(),
            )),
        }
        let aud_ok = f.audiences.iter().any(|a| s.token.aud.contains(a));
        rows.push(
            Row::judged(
                "  audiences",
                f.audiences.join(", "),
                if aud_ok { Status::Pass } else { Status::Fail },
            )
            .note(format!("token: {}", s.token.aud.join(", "))),
        );
    }
    rows
}

fn compared(label: &str, value: &str, token: &str) -> Row {
    match compare::explain(value, token) {
        None => Row::judged(label, value, Status::Pass),
        Some(why) => {
            Row::judged(label, value, Status::Fail).note(format!("token: {token} ({why})"))
        }
    }
}

fn token(s: &Subject<'_>, now: jiff::Timestamp) -> Vec<Row> {
    let t = &s.token;
    let mut rows = vec![Row::fact(
        "claims",
        if t.observed {
            format!("observed ({})", t.source.as_deref().unwrap_or("captured"))
        } else {
            "predicted from the objects (no token captured)".to_string()
        },
    )];
    if let Some(alg) = &t.alg {
        rows.push(Row::fact("header alg", alg));
    }
    if let Some(kid) = &t.kid {
        rows.push(Row::fact("header kid", kid));
    }
    rows.push(Row::fact(
        "iss",
        t.iss.clone().unwrap_or_else(|| "(unknown)".into()),
    ));
    rows.push(Row::fact("sub", &t.sub));
    rows.push(Row::fact("aud", t.aud.join(", ")));
    let now = now.as_second();
    for (name, at) in [("iat", t.iat), ("nbf", t.nbf), ("exp", t.exp)] {
        if let Some(at) = at {
            let row = Row::fact(name, relative(at - now));
            rows.push(match name {
                "exp" if at <= now => Row {
                    status: Some(Status::Fail),
                    ..row
                },
                "exp" => Row {
                    status: Some(Status::Pass),
                    ..row
                },
                _ => row,
            });
        }
    }
    rows.push(Row::fact("signature", "never shown"));
    rows
}

/// `in 52m`, `3h 10m ago`.
fn relative(delta: i64) -> String {
    let a = delta.unsigned_abs();
    let text = match a {
        0..60 => format!("{a}s"),
        60..3600 => format!("{}m", a / 60),
        3600..86400 => format!("{}h {}m", a / 3600, a % 3600 / 60),
        _ => format!("{}d {}h", a / 86400, a % 86400 / 3600),
    };
    if delta >= 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

fn probes(world: &World, pod: &ObjRef) -> Vec<Row> {
    use crate::world::live::ExchangeOutcome;
    let mut rows = Vec::new();
    for e in world
        .facts
        .exchanges
        .iter()
        .filter(|e| e.pods.contains(pod))
    {
        let (status, value) = match &e.outcome {
            ExchangeOutcome::Granted { access } => (
                Status::Pass,
                format!("granted for {}", access.aud.as_deref().unwrap_or("?")),
            ),
            ExchangeOutcome::Rejected(err) => (
                Status::Fail,
                format!(
                    "{} {}{}",
                    err.status,
                    err.error,
                    err.aadsts()
                        .map(|c| format!(" AADSTS{c}"))
                        .unwrap_or_default()
                ),
            ),
            ExchangeOutcome::Unreachable { error } => (Status::Unknown, error.clone()),
        };
        let mut ids = Vec::new();
        if let ExchangeOutcome::Rejected(err) = &e.outcome {
            ids.extend(err.trace_id.iter().map(|t| format!("trace {t}")));
            ids.extend(
                err.correlation_id
                    .iter()
                    .map(|c| format!("correlation {c}")),
            );
        }
        ids.push(format!("{} attempt(s)", e.attempts));
        rows.push(Row::judged("token exchange", value, status).note(ids.join(", ")));
        rows.extend(e.transcript.iter().map(step));
    }
    for p in world.facts.probes.iter().filter(|p| &p.pod == pod) {
        let ok = p.status.is_some_and(|s| (200..300).contains(&s))
            || (p.status == Some(404) && p.error_code.as_deref() == Some("SecretNotFound"));
        let value = format!(
            "{} {}",
            p.status.map_or("no answer".into(), |s| s.to_string()),
            p.error_code.as_deref().unwrap_or_default()
        );
        rows.push(
            Row::judged(
                format!("{} {}", p.target.name(), p.operation),
                value.trim().to_string(),
                if ok { Status::Pass } else { Status::Fail },
            )
            .note(
                p.request_id
                    .clone()
                    .map(|r| format!("request {r}"))
                    .unwrap_or_default(),
            ),
        );
        rows.extend(p.transcript.iter().map(step));
    }
    if rows.is_empty() {
        rows.push(Row::fact("probes", "none yet (p probes this pod)"));
    }
    rows
}

fn step(s: &crate::world::live::Step) -> Row {
    Row::fact(
        format!("  {} {}", s.method, s.what),
        format!(
            "{} in {} ms",
            s.status.map_or("---".into(), |c| c.to_string()),
            s.millis
        ),
    )
    .note(s.url.clone())
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_times() {
        assert_eq!(super::relative(3120), "in 52m");
        assert_eq!(super::relative(-11_400), "3h 10m ago");
        assert_eq!(super::relative(5), "in 5s");
    }
}
