//! Everything the TUI shows, as plain data. Views draw from `&Model` only; `update` is the
//! only thing that changes it.

use crate::analysis::{PodChain, Report, Status};

impl Model {
    /// The view of the selected pod, when it has been described.
    pub fn described_current(&self) -> Option<&crate::analysis::describe::PodView> {
        let (pod, view) = self.described.as_ref()?;
        (self.current().map(|p| &p.pod) == Some(pod)).then_some(view)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Pods,
    Chain,
}

/// Which pane an error belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concerns {
    /// Reading or probing: the pods pane.
    Pods,
    /// Gathering a pod's facts: the open view.
    View,
}

/// What the lower pane shows for the selected pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The selected link's findings, evidence and fix.
    Link,
    ServiceAccount,
    Env,
    Credentials,
    Token,
    Probes,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Link,
        Tab::ServiceAccount,
        Tab::Env,
        Tab::Credentials,
        Tab::Token,
        Tab::Probes,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Link => "Link",
            Tab::ServiceAccount => "ServiceAccount",
            Tab::Env => "Injected env",
            Tab::Credentials => "Federated credentials",
            Tab::Token => "Token claims",
            Tab::Probes => "Probes",
        }
    }
}

/// Where the data comes from, as the title bar says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    World(String),
    Live { context: String },
}

/// What the model asked the runner to do; each request gets an id, and its answer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Read the source again (`Selection::Pod`: one pod), with probes or without.
    Read {
        selection: crate::analysis::Selection,
        probe: bool,
    },
    /// Read another kubeconfig context from now on.
    Switch(String),
    Describe(crate::world::ObjRef),
    Export(crate::world::ObjRef),
}

impl Request {
    /// Reads (and context switches) coalesce: one runs, at most one waits.
    pub fn reads(&self) -> bool {
        matches!(self, Request::Read { .. } | Request::Switch(_))
    }

    /// What the status bar says while it runs.
    pub fn what(&self) -> String {
        use crate::analysis::Selection;
        match self {
            Request::Read {
                selection: Selection::Pod(p),
                ..
            } => format!("probing {p}"),
            Request::Read { probe: true, .. } => "reading and probing".into(),
            Request::Read { .. } => "reading".into(),
            Request::Switch(c) => format!("reading context {c}"),
            Request::Describe(p) => format!("gathering {p}"),
            Request::Export(p) => format!("exporting {p}"),
        }
    }
}

/// Requests in flight, by id, so an answer nobody waits for any more (cancelled, or overtaken)
/// is dropped and the spinner runs while anything runs.
#[derive(Debug, Clone, Default)]
pub struct Work {
    next: u64,
    pub running: std::collections::BTreeMap<u64, Request>,
    /// A read asked for while another ran; it starts when that one answers.
    pub queued: Option<Request>,
    pub tick: usize,
}

impl Work {
    /// A new id for `r`, now running.
    pub fn start(&mut self, r: Request) -> u64 {
        self.next += 1;
        self.running.insert(self.next, r);
        self.next
    }

    pub fn reading(&self) -> bool {
        self.running.values().any(Request::reads)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    Idle,
    /// A background task is running; the spinner turns with each tick.
    Busy {
        what: String,
        tick: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Model {
    pub source: Source,
    pub report: Option<Report>,
    pub pane: Pane,
    /// Index into `visible()`.
    pub selected: usize,
    /// Index into the selected pod's links.
    pub link: usize,
    pub filter: String,
    pub editing_filter: bool,
    /// The `:` command being typed (`ns NAME`, `ns`, `ctx NAME`), while it is open.
    pub command: Option<String>,
    /// Only pods of this namespace are listed (`:ns NAME`).
    pub namespace: Option<String>,
    pub sort_by_verdict: bool,
    pub help: bool,
    pub tab: Tab,
    /// The facts behind the selected pod's chain, for the tabs other than `Link`.
    pub described: Option<(crate::world::ObjRef, crate::analysis::describe::PodView)>,
    pub work: Work,
    /// The last error or notice, shown in the status line.
    pub message: Option<String>,
    /// An error shown inside the pane it concerns, until that pane's data arrives.
    pub error: Option<(Concerns, String)>,
    /// Probes have been run for every pod, so a refresh runs them again rather than
    /// dropping their results.
    pub probed: bool,
    pub quit: bool,
    /// Quit by Ctrl-C: the process exits 130.
    pub interrupted: bool,
}

impl Model {
    pub fn new(source: Source) -> Model {
        Model {
            source,
            report: None,
            pane: Pane::Pods,
            selected: 0,
            link: 0,
            filter: String::new(),
            editing_filter: false,
            command: None,
            namespace: None,
            sort_by_verdict: false,
            help: false,
            tab: Tab::Link,
            described: None,
            work: Work::default(),
            message: None,
            error: None,
            probed: false,
            quit: false,
            interrupted: false,
        }
    }

    /// Pods that pass the filter, in display order.
    pub fn visible(&self) -> Vec<&PodChain> {
        let Some(r) = &self.report else {
            return Vec::new();
        };
        let f = self.filter.to_ascii_lowercase();
        let mut pods: Vec<&PodChain> = r
            .pods
            .iter()
            .filter(|p| {
                self.namespace
                    .as_ref()
                    .is_none_or(|n| &p.pod.namespace == n)
            })
            .filter(|p| {
                f.is_empty()
                    || p.pod.to_string().to_ascii_lowercase().contains(&f)
                    || p.workload.kubectl_ref().to_ascii_lowercase().contains(&f)
                    || p.service_account.to_ascii_lowercase().contains(&f)
                    || p.codes().iter().any(|c| c.to_ascii_lowercase() == f)
            })
            .collect();
        if self.sort_by_verdict {
            // Worst first; stable, so names stay in order within a verdict.
            pods.sort_by_key(|p| std::cmp::Reverse(p.verdict()));
        }
        pods
    }

    /// Busy while any request runs, named by the newest.
    pub fn activity(&self) -> Activity {
        match self.work.running.values().next_back() {
            None => Activity::Idle,
            Some(r) => {
                let more = self.work.running.len() - 1;
                Activity::Busy {
                    what: match more {
                        0 => r.what(),
                        n => format!("{} (+{n} more)", r.what()),
                    },
                    tick: self.work.tick,
                }
            }
        }
    }

    pub fn current(&self) -> Option<&PodChain> {
        self.visible().get(self.selected).copied()
    }

    /// The link to show first: the one that breaks, else the first.
    pub fn first_link(pod: &PodChain) -> usize {
        pod.links
            .iter()
            .position(|l| l.status >= Status::Warn)
            .unwrap_or(0)
    }
}
