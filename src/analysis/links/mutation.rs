//! `mutation`: each container has what the webhook would inject now (env and token mount);
//! nothing missing, overridden or stale.

use crate::analysis::codes::Code;
use k8s_openapi::api::core::v1::{Container, EnvVar};

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::subject::{Subject, projected_token_volume, under_mount};
use crate::analysis::webhook::admission::{Mutation, expected, mutates};
use crate::analysis::webhook::startup::CustomEndpoint;
use crate::analysis::webhook::{SKIP_CONTAINERS, USE_LABEL, cloud_of_authority};

const OUTRANKING: [&str; 4] = [
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
];

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    if cx.subject.template_only {
        b.skip("no pod of the workload exists: nothing was injected yet");
        return;
    }
    if !was_mutated(cx, b) {
        return;
    }
    let s = cx.subject;
    let raw_skip = s.pod_annotation(SKIP_CONTAINERS);
    let injected = Injected::now(cx);
    let skip = &injected.mutation.skip;
    if let Some(raw) = raw_skip.filter(|r| r.contains(',')) {
        comma_separated_skip(s, raw, b);
    }
    skipped_containers(cx, b, skip, raw_skip);
    let later = added_after_the_webhook(cx);
    let mutated = s.containers().filter(|(c, init)| {
        !skip.contains(&c.name)
            && (!init || injected.mutation.init_containers)
            && !later.contains(&c.name.as_str())
    });
    for (c, _) in mutated {
        check_container(cx, b, c, &injected);
    }
    if !later.is_empty() {
        b.fact(
            Evidence::fact("added after the webhook", later.join(", ")).with_note(
                "not in the pod template, and the webhook is not called again (reinvocationPolicy)",
            ),
        );
    }
    if let Some(custom) = &injected.mutation.custom {
        b.fact(Evidence::fact(
            "token endpoint",
            format!("custom (audience {})", injected.mutation.audience),
        ));
        custom_ca(cx, b, custom);
    }
    if let Some((volume, aud)) = projected_token_volume(s.pod)
        && aud != injected.mutation.audience
    {
        b.raise(
            Code::WI506,
            format!("the projected token's audience is {aud:?}"),
        )
        .evidence(Evidence::compared(
            "audience",
            &aud,
            &injected.mutation.audience,
        ))
        .var("volume", volume);
    }
    b.fact(Evidence::fact(
        "token file",
        s.containers()
            .find_map(|(c, _)| env(c, "AZURE_FEDERATED_TOKEN_FILE")?.value.clone())
            .unwrap_or_default(),
    ));
    b.ok("injected env and token mount match what the webhook injects now");
}

/// Whether the pod was mutated at all; says why not (skip, or WI501) when it was not.
fn was_mutated(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) -> bool {
    let s = cx.subject;
    let install = cx.install;
    let labelled =
        s.pod_label(USE_LABEL) == Some("true") || mutates(&install.profile, &s.request());
    // Another release's variable counts too: the pod may predate the installed webhook.
    let injected_anywhere = s.containers().any(|(c, _)| {
        env(c, "AZURE_FEDERATED_TOKEN_FILE").is_some()
            || env(c, install.profile.token_env).is_some()
    });
    if !labelled && !injected_anywhere {
        b.skip("not mutated: the pod is not labelled for workload identity");
        return false;
    }
    if !install.present() && !injected_anywhere {
        b.skip("not mutated: no webhook");
        return false;
    }
    if !injected_anywhere {
        b.raise(
            Code::WI501,
            format!(
                "pod {} has none of the injected variables or the token volume",
                s.at.name
            ),
        )
        .evidence(Evidence::fact("created", created(cx)));
        return false;
    }
    true
}

/// What the webhook would inject now (the release model, from the ServiceAccount and the
/// webhook's own configuration), and the token paths a pod it mutated may hold.
struct Injected<'a> {
    mutation: Mutation,
    token_paths: &'a [String],
}

impl<'a> Injected<'a> {
    fn now(cx: &PodCx<'a, '_>) -> Injected<'a> {
        let install = cx.install;
        Injected {
            mutation: expected(&install.profile, &install.assumed, &cx.subject.request()),
            token_paths: &install.token_paths,
        }
    }

    /// The values a variable may rightly hold; `None` when the webhook does not inject it or
    /// the value is not known (a present variable is never stale against an empty one: the
    /// webhook adds only what is absent).
    fn expected(&self, name: &str) -> Option<Vec<&str>> {
        let value = self.mutation.value(name).filter(|v| !v.is_empty())?;
        Some(if name == self.mutation.token_env {
            self.token_paths.iter().map(String::as_str).collect()
        } else {
            vec![value]
        })
    }
}

/// The custom token endpoint's CA, projected into the token volume from the ConfigMap or the
/// ClusterTrustBundle the webhook's configuration names (webhook.go@v1.6.0:509-541); a CA given
/// as data travels in AZURE_KUBERNETES_CA_DATA instead (checked with the variables).
fn custom_ca(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>, custom: &CustomEndpoint) {
    let want = if !custom.ca_config_map.is_empty() {
        format!("ConfigMap {}", custom.ca_config_map)
    } else if !custom.ca_signer_name.is_empty() {
        format!("ClusterTrustBundle signer {}", custom.ca_signer_name)
    } else {
        return;
    };
    let Some((volume, _)) = projected_token_volume(cx.subject.pod) else {
        return;
    };
    let sources = cx
        .subject
        .spec
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter(|v| v.name == volume)
        .filter_map(|v| v.projected.as_ref()?.sources.as_ref())
        .flatten();
    let found = sources.into_iter().any(|s| {
        s.config_map
            .as_ref()
            .is_some_and(|c| c.name == custom.ca_config_map && !custom.ca_config_map.is_empty())
            || s.cluster_trust_bundle.as_ref().is_some_and(|t| {
                t.signer_name.as_deref() == Some(custom.ca_signer_name.as_str())
                    && !custom.ca_signer_name.is_empty()
            })
    });
    if !found {
        b.raise(
            Code::WI512,
            format!("token volume {volume} lacks the custom token endpoint's CA ({want})"),
        )
        .evidence(Evidence::fact(
            "webhook projects",
            format!("{want} at ca-cert/ca.crt"),
        ));
    }
}

/// Containers a later webhook (a service mesh) added: absent from the pod template, when the
/// webhook is not called again after it (no reinvocationPolicy IfNeeded, as before v1.0), so
/// they never got the variables and need none.
fn added_after_the_webhook<'w>(cx: &PodCx<'_, 'w>) -> Vec<&'w str> {
    let install = cx.install;
    let reinvoked = if install.entries.is_empty() {
        install.profile.reinvoked
    } else {
        install
            .entries
            .iter()
            .all(|e| e.webhook.reinvocation_policy.as_deref() == Some("IfNeeded"))
    };
    let Some(template) = cx.subject.template_spec.filter(|_| !reinvoked) else {
        return Vec::new();
    };
    let in_template = |name: &str| {
        template
            .containers
            .iter()
            .chain(template.init_containers.iter().flatten())
            .any(|t| t.name == name)
    };
    cx.subject
        .containers()
        .map(|(c, _)| c.name.as_str())
        .filter(|n| !in_template(n))
        .collect()
}

/// The skip annotation written with commas, which the webhook does not treat as separators.
fn comma_separated_skip(subject: &Subject<'_>, raw: &str, b: &mut LinkBuilder<'_>) {
    let fixed = raw
        .split([',', ';'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(";");
    let r = b.raise(
        Code::WI508,
        format!("{SKIP_CONTAINERS} is {raw:?}; the webhook splits on ';' only"),
    );
    super::pod::set_annotation(subject, r, SKIP_CONTAINERS, &fixed);
}

/// Containers the skip annotation keeps from the mutation: all of them, or each one named.
fn skipped_containers(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    skip: &[String],
    raw_skip: Option<&str>,
) {
    let regular: Vec<&Container> = cx
        .subject
        .containers()
        .filter(|(_, init)| !init)
        .map(|(c, _)| c)
        .collect();
    let skipped: Vec<&&Container> = regular.iter().filter(|c| skip.contains(&c.name)).collect();
    if !regular.is_empty() && skipped.len() == regular.len() {
        let r = b.raise(
            Code::WI510,
            format!(
                "{SKIP_CONTAINERS} lists every container ({})",
                skip.join(";")
            ),
        );
        // The webhook reads the pod's annotation: the template's, not the owner's metadata.
        super::pod::remove_annotation(cx.subject, r, SKIP_CONTAINERS);
    } else {
        for c in &skipped {
            let keep = skip
                .iter()
                .filter(|n| **n != c.name)
                .cloned()
                .collect::<Vec<_>>()
                .join(";");
            let r = b.raise(
                Code::WI507,
                format!("container {} is skipped and gets no identity", c.name),
            );
            r.evidence(Evidence::fact(
                SKIP_CONTAINERS,
                raw_skip.unwrap_or_default(),
            ));
            super::pod::set_annotation(cx.subject, r, SKIP_CONTAINERS, &keep);
        }
    }
}

/// One mutated container: the injected variables present and current, the token file under a
/// mount, and no credential variable that DefaultAzureCredential would try first.
fn check_container(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    c: &Container,
    injected: &Injected,
) {
    let mut missing = Vec::new();
    for (name, _) in &injected.mutation.env {
        let Some(expected) = injected.expected(name) else {
            continue;
        };
        match env(c, name) {
            None => missing.push(*name),
            Some(e) => compare(cx, b, c, e, &expected),
        }
    }
    if !missing.is_empty() {
        b.raise(
            Code::WI502,
            format!("container {} lacks {}", c.name, missing.join(", ")),
        )
        .var("variable", missing[0]);
    }
    let token_env = injected.mutation.token_env;
    if let Some(path) = env(c, token_env).and_then(|e| e.value.as_deref()) {
        let mounted = c
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| under_mount(path, &m.mount_path));
        if !mounted {
            b.raise(
                Code::WI505,
                format!(
                    "container {}: {token_env}={path} is not under any volume mount",
                    c.name
                ),
            )
            .evidence(Evidence::fact("mounts", mounts(c)));
        }
    }
    for name in OUTRANKING {
        if env(c, name).is_some() {
            b.raise(Code::WI509, format!("container {} sets {name}, which DefaultAzureCredential prefers over workload identity", c.name))
                .var("variable", name);
        }
    }
}

fn env<'c>(c: &'c Container, name: &str) -> Option<&'c EnvVar> {
    c.env.iter().flatten().find(|e| e.name == name)
}

fn mounts(c: &Container) -> String {
    let m: Vec<&str> = c
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| m.mount_path.as_str())
        .collect();
    if m.is_empty() {
        "(none)".into()
    } else {
        m.join(", ")
    }
}

fn created(cx: &PodCx<'_, '_>) -> String {
    cx.subject
        .pod
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// An injected variable that differs: hard-coded in the workload (override) or left from an
/// older ServiceAccount annotation (stale).
fn compare(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    c: &Container,
    e: &EnvVar,
    expected: &[&str],
) {
    let s = cx.subject;
    let name = e.name.as_str();
    let Some(value) = e.value.as_deref() else {
        b.raise(
            Code::WI503,
            format!(
                "container {}: {name} comes from valueFrom, so the webhook leaves it alone",
                c.name
            ),
        )
        .var("variable", name);
        return;
    };
    if expected.contains(&value) {
        return;
    }
    if name == "AZURE_AUTHORITY_HOST" && cloud_of_authority(value).is_none() {
        // Not a stale value but a destination for the pod's token (docs/security.md).
        b.raise(
            Code::WI511,
            format!(
                "container {}: AZURE_AUTHORITY_HOST {value} is not the Entra authority of any Azure cloud",
                c.name
            ),
        )
        .evidence(Evidence::compared(
            format!("{} AZURE_AUTHORITY_HOST", c.name),
            value,
            expected[0],
        ));
        return;
    }
    let in_template = s
        .template_spec
        .into_iter()
        .flat_map(|t| {
            t.containers
                .iter()
                .chain(t.init_containers.iter().flatten())
        })
        .filter(|tc| tc.name == c.name)
        .any(|tc| env(tc, name).is_some());
    let ev = Evidence::compared(format!("{} {name}", c.name), value, expected[0]);
    if in_template {
        b.raise(
            Code::WI503,
            format!("{} hard-codes {name}={value}", s.workload.kubectl_ref()),
        )
        .evidence(ev)
        .var("variable", name);
    } else if name == "AZURE_FEDERATED_TOKEN_FILE" {
        // Another webhook version's path is fine as long as it is mounted (checked separately).
    } else {
        b.raise(
            Code::WI504,
            format!(
                "container {}: {name} is {value}, the ServiceAccount now says {}",
                c.name, expected[0]
            ),
        )
        .evidence(ev)
        .evidence(Evidence::fact("pod created", created(cx)));
    }
}
