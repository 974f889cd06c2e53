//! The chain of links one pod's identity passes through, and what was found on each.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;

use crate::world::ObjRef;

/// The links, in chain order. Their kebab-case names are a public contract.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Link {
    Cluster,
    Webhook,
    ServiceAccount,
    Pod,
    Mutation,
    Token,
    Issuer,
    Identity,
    Federation,
    Exchange,
    Access,
    Resource,
}

impl Link {
    pub const ALL: [Link; 12] = [
        Link::Cluster,
        Link::Webhook,
        Link::ServiceAccount,
        Link::Pod,
        Link::Mutation,
        Link::Token,
        Link::Issuer,
        Link::Identity,
        Link::Federation,
        Link::Exchange,
        Link::Access,
        Link::Resource,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Link::Cluster => "cluster",
            Link::Webhook => "webhook",
            Link::ServiceAccount => "service-account",
            Link::Pod => "pod",
            Link::Mutation => "mutation",
            Link::Token => "token",
            Link::Issuer => "issuer",
            Link::Identity => "identity",
            Link::Federation => "federation",
            Link::Exchange => "exchange",
            Link::Access => "access",
            Link::Resource => "resource",
        }
    }

    pub fn parse(s: &str) -> Option<Link> {
        Link::ALL.into_iter().find(|l| l.name() == s)
    }
}

/// Ordered from best to worst, so `max` gives the verdict.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Unknown,
    Warn,
    Fail,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Unknown => "unknown",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// Catalogue severity of a finding; decides the status it gives its link.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Unknown,
    Warning,
    Error,
}

impl Severity {
    pub fn status(self) -> Status {
        match self {
            Severity::Info => Status::Pass,
            Severity::Unknown => Status::Unknown,
            Severity::Warning => Status::Warn,
            Severity::Error => Status::Fail,
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "unknown" => Some(Severity::Unknown),
            "warning" | "warn" => Some(Severity::Warning),
            "error" | "fail" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// One value the analysis looked at, and what it was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Usually a constant; owned only when it names something.
    pub label: Cow<'static, str>,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Where and how `value` and `expected` differ, or where the value came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Cow<'static, str>>,
}

impl Evidence {
    pub fn fact(label: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            expected: None,
            note: None,
        }
    }

    pub fn compared(
        label: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        let (value, expected) = (value.into(), expected.into());
        let note = super::compare::explain(&value, &expected).map(Cow::Owned);
        Self {
            label: label.into(),
            value,
            expected: Some(expected),
            note,
        }
    }

    pub fn with_note(mut self, note: impl Into<Cow<'static, str>>) -> Self {
        self.note = Some(note.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Shared with the catalogue: a report of thousands of pods holds one copy of each text.
    pub code: Arc<str>,
    pub severity: Severity,
    pub title: Arc<str>,
    /// This instance, with the real names.
    pub message: String,
    /// Why it matters, from the catalogue.
    pub explanation: Arc<str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkResult {
    pub link: Link,
    pub status: Status,
    /// One line for a passing or skipped link; the first finding's message otherwise.
    pub summary: Cow<'static, str>,
    /// Facts established on the way, shown whatever the status.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// What the verdict rests on (the objects, a live observation, or a prediction); the JSON
    /// report says it per link.
    #[serde(skip)]
    pub basis: super::basis::Basis,
}

impl LinkResult {
    /// The finding that decides the status (the most severe, first raised on ties).
    pub fn primary(&self) -> Option<&Finding> {
        let worst = self.findings.iter().map(|f| f.severity).max()?;
        self.findings
            .iter()
            .find(|f| f.severity == worst && f.severity.status() == self.status)
    }
}

/// The workload that owns a pod: what a fix should patch or restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet or Pod (borrowed: one of
    /// a handful of names for every pod), or another controller's kind.
    pub kind: Cow<'static, str>,
    pub name: String,
}

impl Workload {
    /// `deploy/web`, as kubectl takes it.
    pub fn kubectl_ref(&self) -> String {
        let short = match self.kind.as_ref() {
            "Deployment" => "deploy",
            "StatefulSet" => "statefulset",
            "DaemonSet" => "daemonset",
            "ReplicaSet" => "rs",
            "Job" => "job",
            "CronJob" => "cronjob",
            _ => "pod",
        };
        format!("{short}/{}", self.name)
    }

    /// Which form of a fix reaches this owner's pod template: the pod's own, a CronJob's job
    /// template, a Job's (which cannot change: the Job is created again), or another workload's.
    pub fn template_variant(&self) -> &'static str {
        match self.kind.as_ref() {
            "Pod" => "pod",
            "CronJob" => "cronjob",
            "Job" => "job",
            _ => "workload",
        }
    }

    /// The shell words that bring up a new pod with a change, for pod `pod` in `namespace`
    /// (issue 22). A controller's template gets a rollout; a CronJob's next run takes the change,
    /// and a job made from it runs one now; a ReplicaSet alone replaces a deleted pod; a bare pod
    /// or a Job (whose template cannot change) is deleted and created again from the user's
    /// manifest, since the live object still holds what the webhook injected from the old values.
    pub fn restart_words(&self, pod: &str, namespace: &str) -> String {
        use crate::untrusted::shell::quote;
        let ns = quote(namespace);
        match self.kind.as_ref() {
            "Deployment" | "StatefulSet" | "DaemonSet" => format!(
                "kubectl rollout restart {} -n {ns}",
                quote(&self.kubectl_ref())
            ),
            "CronJob" => format!(
                "kubectl create job {} --from={} -n {ns}",
                quote(&format!("{}-retry", self.name)),
                quote(&self.kubectl_ref())
            ),
            "ReplicaSet" => format!("kubectl delete pod {} -n {ns}", quote(pod)),
            "Job" => format!(
                "kubectl delete job {} -n {ns} && kubectl apply -f <manifest file of the job>",
                quote(&self.name)
            ),
            _ => format!(
                "kubectl delete pod {} -n {ns} && kubectl apply -f <manifest file of the pod>",
                quote(pod)
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodChain {
    /// The pod; for a workload with no pod (`template_only`), the workload's name.
    pub pod: ObjRef,
    /// No pod of the workload exists: the chain is its template's would-be pod.
    #[serde(rename = "templateOnly", skip_serializing_if = "std::ops::Not::not")]
    pub template_only: bool,
    pub workload: Workload,
    pub service_account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Name of the resolved managed identity or application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub links: Vec<LinkResult>,
}

impl PodChain {
    /// The worst link status; skipped links alone still make a pass.
    pub fn verdict(&self) -> Status {
        match self.links.iter().map(|l| l.status).max() {
            Some(Status::Skip) | None => Status::Pass,
            Some(s) => s,
        }
    }

    /// The first link in chain order that fails, else the first that warns or is unknown.
    pub fn broken_link(&self) -> Option<&LinkResult> {
        let worst = self.verdict();
        if worst == Status::Pass {
            return None;
        }
        self.links.iter().find(|l| l.status == worst)
    }

    pub fn link(&self, link: Link) -> Option<&LinkResult> {
        self.links.iter().find(|l| l.link == link)
    }

    pub fn codes(&self) -> Vec<&str> {
        self.links
            .iter()
            .flat_map(|l| l.findings.iter().map(|f| &*f.code))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Workload;

    fn restart(kind: &'static str, name: &str, pod: &str) -> String {
        Workload {
            kind: kind.into(),
            name: name.into(),
        }
        .restart_words(pod, "apps")
    }

    #[test]
    fn each_owner_gets_the_restart_kubectl_can_do() {
        assert_eq!(
            restart("Deployment", "web", "web-5c-x"),
            "kubectl rollout restart deploy/web -n apps"
        );
        assert_eq!(
            restart("CronJob", "nightly", "nightly-1-x"),
            "kubectl create job nightly-retry --from=cronjob/nightly -n apps"
        );
        assert_eq!(
            restart("ReplicaSet", "web-5c", "web-5c-x"),
            "kubectl delete pod web-5c-x -n apps"
        );
        assert_eq!(
            restart("Job", "once", "once-x"),
            "kubectl delete job once -n apps && kubectl apply -f <manifest file of the job>"
        );
        // `rollout restart pod/x` is refused by kubectl: a bare pod is created again.
        assert_eq!(
            restart("Pod", "p", "p"),
            "kubectl delete pod p -n apps && kubectl apply -f <manifest file of the pod>"
        );
    }

    #[test]
    fn hostile_names_stay_one_quoted_word() {
        let words = restart("Pod", "x", "p; touch PWNED");
        assert!(
            words.starts_with("kubectl delete pod 'p; touch PWNED' -n apps"),
            "{words}"
        );
    }
}
