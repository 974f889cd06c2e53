//! `pod`: the pod itself carries the label and valid annotations, and can be mutated at all.

use super::{LinkBuilder, PodCx, Raised};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::subject::Subject;
use crate::analysis::webhook::admission::{Cause, REFUSED, triggered};
use crate::analysis::webhook::releases::Trigger;
use crate::analysis::webhook::{EXPIRATION, INJECT_PROXY, PROXY_PORT, USE_LABEL};
use crate::untrusted::shell;

/// `label {USE_LABEL}`, spelled out so a passing pod costs no allocation for it.
const LABEL_EVIDENCE: &str = "label azure.workload.identity/use";

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    match s.pod_label(USE_LABEL) {
        Some("true") => b.fact(Evidence::fact(LABEL_EVIDENCE, "true")),
        // Before v1.0 the handler looked for the label's key, whatever its value.
        Some(other) if cx.install.profile.trigger == Trigger::PodOrServiceAccount => {
            b.fact(Evidence::fact(LABEL_EVIDENCE, other).with_note(format!(
                "webhook {} mutates on the label's presence; v1.0 and later need \"true\"",
                cx.install.profile.release
            )));
        }
        Some(other) => {
            b.raise(
                Code::WI403,
                format!("label {USE_LABEL} is {other:?}, not \"true\""),
            )
            .evidence(Evidence::compared(
                format!("label {USE_LABEL}"),
                other,
                "true",
            ));
        }
        None => missing_label(cx, b),
    }
    invalid_annotations(cx, b);
    let spec = s.spec;
    if s.pod_annotation(INJECT_PROXY).is_some() && spec.and_then(|p| p.host_network) == Some(true) {
        let r = b.raise(Code::WI405, "inject-proxy-sidecar on a hostNetwork pod");
        remove_annotation(s, r, INJECT_PROXY);
        if let Some(d) = s
            .denials
            .iter()
            .find(|d| d.cause == Cause::ProxyOnHostNetwork)
        {
            r.evidence(Evidence::fact("webhook answer", d.event()));
        }
    }
    if s.pod_annotation("kubernetes.io/config.mirror").is_some() {
        b.raise(
            Code::WI406,
            "static (mirror) pod; admission webhooks never see it",
        )
        .var(
            "node",
            spec.and_then(|p| p.node_name.clone()).unwrap_or_default(),
        );
    }
    node(cx, b);
    let template_uses_alias = s
        .template_spec
        .is_some_and(|t| t.service_account.is_some() && t.service_account_name.is_none());
    if template_uses_alias {
        b.raise(
            Code::WI409,
            format!(
                "{} sets the deprecated spec.serviceAccount",
                s.workload.kubectl_ref()
            ),
        );
    }
    b.ok(format!("pod labelled {USE_LABEL}: \"true\""));
}

/// The webhook's refusal of a pod like this one, for a reason on the pod itself: it quotes the
/// webhook's message, which a controller's `FailedCreate` event carries.
fn invalid_annotations(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    refused_by_events(cx, b);
    for d in &cx.subject.denials {
        let key = match d.cause {
            Cause::ProxyPort => PROXY_PORT,
            Cause::Expiration { on_pod: true } => EXPIRATION,
            _ => continue,
        };
        let value = cx.subject.pod_annotation(key).unwrap_or_default();
        let r = b
            .raise(
                Code::WI404,
                format!("annotation {key} is {value:?}; the webhook denies pod creation"),
            )
            .evidence(Evidence::fact("webhook answer", d.event()));
        remove_annotation(cx.subject, r, key);
        if let Some(e) = cx
            .subject
            .failed_creates
            .iter()
            .find(|m| m.contains(&d.message))
        {
            r.evidence(Evidence::fact("event", *e));
        }
    }
}

/// The fix's values to remove annotation `key` where the pods get it: a JSON patch of the
/// workload's pod template (kubectl annotate on a Deployment would change the Deployment's own
/// metadata, which the webhook never reads), or the pod recreated without it.
pub(super) fn remove_annotation(s: &Subject<'_>, r: &mut Raised, key: &'static str) {
    r.var("annotation", key).variant(template_variant(s));
    let template = template_path(s);
    // RFC 6901: `/` in a key is `~1` (the keys are the webhook's own constants).
    let path = format!("{template}/metadata/annotations/{}", key.replace('/', "~1"));
    let patch = serde_json::json!([{ "op": "remove", "path": path }]).to_string();
    r.words("patch", shell::single_quote(&patch));
}

/// The fix's values to set annotation `key` to `value` where the pods get it: a JSON patch of
/// the workload's pod template, or the pod recreated with it (`{annotation}`, `{value}`).
pub(super) fn set_annotation(s: &Subject<'_>, r: &mut Raised, key: &'static str, value: &str) {
    r.var("annotation", key)
        .var("value", value)
        .variant(template_variant(s));
    let path = format!(
        "{}/metadata/annotations/{}",
        template_path(s),
        key.replace('/', "~1")
    );
    // `add` sets a key whether or not it is there (RFC 6902); the value is the cluster's text,
    // JSON-encoded, then quoted for the shell as one word.
    let patch = serde_json::json!([{ "op": "add", "path": path, "value": value }]).to_string();
    r.words("patch", shell::single_quote(&patch));
}

fn template_path(s: &Subject<'_>) -> &'static str {
    match s.workload.kind.as_ref() {
        "CronJob" => "/spec/jobTemplate/spec/template",
        _ => "/spec/template",
    }
}

fn template_variant(s: &Subject<'_>) -> &'static str {
    s.workload.template_variant()
}

/// A would-be pod's controller recorded the webhook refusing it for a reason the model does not
/// predict (another release, a setting the world does not show): the event says why.
fn refused_by_events(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    if s.failed_creates.is_empty() {
        return;
    }
    let unexplained = s
        .failed_creates
        .iter()
        .filter(|m| m.contains(REFUSED))
        .find(|m| !s.denials.iter().any(|d| m.contains(&d.message)));
    if let Some(m) = unexplained {
        b.raise(
            Code::WI411,
            format!(
                "the webhook refuses the pods of {}",
                s.workload.kubectl_ref()
            ),
        )
        .evidence(Evidence::fact("event", *m));
    }
}

/// The node the pod runs on: a virtual node, or Windows without `spec.os.name`.
fn node(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let spec = cx.subject.spec;
    let node = spec
        .and_then(|p| p.node_name.as_deref())
        .and_then(|n| cx.ix.nodes.get(n));
    if let Some(node) = node {
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let name = node.metadata.name.clone().unwrap_or_default();
        if labels.get("type").is_some_and(|t| t == "virtual-kubelet")
            || name.starts_with("virtual-node")
        {
            b.raise(Code::WI407, format!("pod runs on virtual node {name}"));
        }
        if labels
            .get("kubernetes.io/os")
            .is_some_and(|o| o == "windows")
            && spec
                .and_then(|p| p.os.as_ref())
                .is_none_or(|o| o.name != "windows")
        {
            b.raise(
                Code::WI408,
                format!("pod runs on Windows node {name} without spec.os.name: windows"),
            );
        }
    }
}

fn missing_label(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let s = cx.subject;
    let sa_labelled =
        s.sa.and_then(|sa| sa.metadata.labels.as_ref()?.get(USE_LABEL).cloned())
            .or_else(|| s.sa_annotation(USE_LABEL).map(str::to_string));
    let on_owner = s
        .owner_meta
        .and_then(|m| m.labels.as_ref()?.get(USE_LABEL))
        .is_some();
    if cx.install.pre_v1() && sa_labelled.is_some() && triggered(&cx.install.profile, &s.request())
    {
        b.raise(
            Code::WI402,
            format!(
                "the pod is mutated only because ServiceAccount {} is labelled (pre-1.0 webhook)",
                s.sa_name
            ),
        )
        .evidence(Evidence::fact(
            "ServiceAccount label",
            format!("{USE_LABEL}: {:?}", sa_labelled.unwrap_or_default()),
        ));
        return;
    }
    let where_ = if on_owner {
        format!(
            "on {} metadata, not on its pod template",
            s.workload.kubectl_ref()
        )
    } else if sa_labelled.is_some() {
        format!(
            "only on ServiceAccount {}, which webhooks since v1.0 ignore",
            s.sa_name
        )
    } else {
        "nowhere".into()
    };
    let variant = template_variant(s);
    let r = b.raise(
        Code::WI401,
        format!("pod lacks label {USE_LABEL}: \"true\" (it is {where_})"),
    );
    r.variant(variant);
    if on_owner {
        r.evidence(Evidence::fact(
            format!("{} metadata.labels", s.workload.kubectl_ref()),
            format!("{USE_LABEL}: \"true\""),
        ));
    }
    if let Some(v) = sa_labelled {
        r.evidence(Evidence::fact(
            format!("ServiceAccount {} label", s.sa_name),
            format!("{USE_LABEL}: {v:?}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_evidence_names_the_webhook_label() {
        assert_eq!(LABEL_EVIDENCE, format!("label {USE_LABEL}"));
    }
}
