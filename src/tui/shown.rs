//! The text of `y` (YAML) and `d` (describe) for the objects behind a pod's chain. The objects
//! pass the bundle's redaction first: a secret in an env value or annotation is not shown.

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::model::{Shown, ShownObject};
use crate::analysis::describe::{Objects, objects};
use crate::world::World;

/// The title and lines for `shown`, or why there are none.
pub fn text(world: &World, shown: &Shown) -> Result<(String, Vec<String>), String> {
    let o = objects(world, &shown.pod)
        .ok_or_else(|| format!("{} is no longer in the world", shown.pod))?;
    let o = redacted(o);
    let what = match shown.object {
        ShownObject::Pod => format!("pod {}", shown.pod),
        ShownObject::ServiceAccount => format!(
            "ServiceAccount {}",
            o.service_account
                .as_ref()
                .and_then(|s| s.metadata.name.clone())
                .unwrap_or_else(|| "(none)".into())
        ),
        ShownObject::Credentials => format!(
            "federated credentials of {}",
            o.identity.clone().unwrap_or_else(|| "(no identity)".into())
        ),
    };
    let lines = if shown.yaml {
        yaml(&o, shown.object)?
    } else {
        describe(&o, shown.object)
    };
    let how = if shown.yaml { "YAML" } else { "describe" };
    Ok((format!("{how} · {what}"), lines))
}

/// The objects as a support bundle would write them: secret-like values gone.
fn redacted(o: Objects) -> Objects {
    let mut w = World::default();
    w.kube.pods.push(o.pod);
    w.kube.service_accounts.extend(o.service_account);
    crate::bundle::scrub::scrub(&mut w);
    Objects {
        pod: w.kube.pods.pop().unwrap_or_default(),
        service_account: w.kube.service_accounts.pop(),
        identity: o.identity,
        credentials: o.credentials,
    }
}

fn yaml(o: &Objects, object: ShownObject) -> Result<Vec<String>, String> {
    let mut value = match object {
        ShownObject::Pod => serde_json::to_value(&o.pod),
        ShownObject::ServiceAccount => serde_json::to_value(&o.service_account),
        ShownObject::Credentials => serde_json::to_value(&o.credentials),
    }
    .map_err(|e| e.to_string())?;
    crate::bundle::scrub::by_value_everywhere(&mut value);
    let text = serde_saphyr::to_string(&value).map_err(|e| e.to_string())?;
    Ok(text.lines().map(str::to_string).collect())
}

fn describe(o: &Objects, object: ShownObject) -> Vec<String> {
    match object {
        ShownObject::Pod => describe_pod(&o.pod),
        ShownObject::ServiceAccount => match &o.service_account {
            Some(sa) => describe_sa(sa),
            None => vec!["the pod's ServiceAccount does not exist".into()],
        },
        ShownObject::Credentials => describe_credentials(o),
    }
}

fn meta_lines(m: &ObjectMeta, out: &mut Vec<String>) {
    out.push(format!("Name:         {}", m.name.as_deref().unwrap_or("")));
    out.push(format!(
        "Namespace:    {}",
        m.namespace.as_deref().unwrap_or("default")
    ));
    for (title, map) in [("Labels:", &m.labels), ("Annotations:", &m.annotations)] {
        let entries: Vec<String> = map
            .iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if entries.is_empty() {
            out.push(format!("{title:<14}<none>"));
        }
        for (i, e) in entries.into_iter().enumerate() {
            let head = if i == 0 { title } else { "" };
            out.push(format!("{head:<14}{e}"));
        }
    }
}

fn describe_pod(pod: &Pod) -> Vec<String> {
    let mut out = Vec::new();
    meta_lines(&pod.metadata, &mut out);
    let spec = pod.spec.clone().unwrap_or_default();
    out.push(format!(
        "Service Account: {}",
        spec.service_account_name.as_deref().unwrap_or("default")
    ));
    out.push(format!(
        "Status:       {}",
        pod.status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("(no status)")
    ));
    let init = spec.init_containers.iter().flatten().map(|c| ("init ", c));
    out.push("Containers:".into());
    for (kind, c) in init.chain(spec.containers.iter().map(|c| ("", c))) {
        out.push(format!(
            "  {kind}{}: {}",
            c.name,
            c.image.as_deref().unwrap_or("")
        ));
        for e in c.env.iter().flatten() {
            let value = match (&e.value, &e.value_from) {
                (Some(v), _) => v.clone(),
                (None, Some(_)) => "(from a reference)".into(),
                (None, None) => String::new(),
            };
            out.push(format!("    env {}={value}", e.name));
        }
        for m in c.volume_mounts.iter().flatten() {
            out.push(format!("    mount {} from {}", m.mount_path, m.name));
        }
    }
    out.push("Volumes:".into());
    for v in spec.volumes.iter().flatten() {
        let tokens: Vec<String> = v
            .projected
            .iter()
            .flat_map(|p| p.sources.iter().flatten())
            .filter_map(|s| s.service_account_token.as_ref())
            .map(|t| {
                format!(
                    "service account token (audience {}, expires in {} s, path {})",
                    t.audience.as_deref().unwrap_or("(the API server's)"),
                    t.expiration_seconds.unwrap_or(3600),
                    t.path
                )
            })
            .collect();
        match tokens.is_empty() {
            true => out.push(format!("  {}", v.name)),
            false => out.push(format!("  {}: {}", v.name, tokens.join("; "))),
        }
    }
    out
}

fn describe_sa(sa: &ServiceAccount) -> Vec<String> {
    let mut out = Vec::new();
    meta_lines(&sa.metadata, &mut out);
    out
}

fn describe_credentials(o: &Objects) -> Vec<String> {
    let Some(identity) = &o.identity else {
        return vec!["the pod's client ID does not resolve to an identity".into()];
    };
    let mut out = vec![format!("Identity:     {identity}")];
    if o.credentials.is_empty() {
        out.push("no federated credentials".into());
    }
    for f in &o.credentials {
        out.push(format!("Credential:   {}", f.name));
        out.push(format!("  issuer:     {}", f.issuer));
        match (&f.subject, &f.claims_matching_expression) {
            (Some(s), _) => out.push(format!("  subject:    {s}")),
            (None, Some(x)) => out.push(format!("  claims:     {x}")),
            (None, None) => out.push("  subject:    (none)".into()),
        }
        out.push(format!("  audiences:  {}", f.audiences.join(", ")));
    }
    out
}
