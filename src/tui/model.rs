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
    /// The lower pane: the selected link's findings and fix, or an inspection tab.
    Detail,
}

impl Pane {
    /// Tab's order; BackTab goes the other way.
    pub fn next(self) -> Pane {
        match self {
            Pane::Pods => Pane::Chain,
            Pane::Chain => Pane::Detail,
            Pane::Detail => Pane::Pods,
        }
    }

    pub fn previous(self) -> Pane {
        match self {
            Pane::Pods => Pane::Detail,
            Pane::Chain => Pane::Pods,
            Pane::Detail => Pane::Chain,
        }
    }
}

/// The pods pane's order (`s` steps through them); the header marks the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// By namespace and name, as read.
    #[default]
    Name,
    /// Worst verdict first.
    Verdict,
    /// By the link that breaks, in chain order (passing pods last).
    BreaksAt,
    ServiceAccount,
    Identity,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Name => Sort::Verdict,
            Sort::Verdict => Sort::BreaksAt,
            Sort::BreaksAt => Sort::ServiceAccount,
            Sort::ServiceAccount => Sort::Identity,
            Sort::Identity => Sort::Name,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Verdict => "verdict",
            Sort::BreaksAt => "broken link",
            Sort::ServiceAccount => "ServiceAccount",
            Sort::Identity => "identity",
        }
    }
}

/// A list to choose from (`:ns`, `:ctx` with no name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub kind: PickerKind,
    pub choices: Vec<String>,
    pub selected: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Namespace,
    Context,
}

/// A full-screen text view (`y` YAML, `d` describe), scrolled like the detail pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: usize,
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

    /// The tab strip's names when the full ones do not fit.
    pub fn short(self) -> &'static str {
        match self {
            Tab::Link => "Link",
            Tab::ServiceAccount => "SA",
            Tab::Env => "Env",
            Tab::Credentials => "FICs",
            Tab::Token => "Token",
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
    /// An object behind the pod's chain as text (`y`, `d`).
    Show(Shown),
}

/// What `y` and `d` show: which object of the selected pod's chain, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub pod: crate::world::ObjRef,
    pub object: ShownObject,
    pub yaml: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownObject {
    Pod,
    ServiceAccount,
    /// The federated credentials of the pod's identity.
    Credentials,
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
            Request::Show(s) => format!("reading {}", s.pod),
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
    pub sort: Sort,
    pub help: bool,
    /// The first help row shown (the help scrolls on a short screen).
    pub help_scroll: usize,
    /// The first detail row shown.
    pub detail_scroll: usize,
    /// The detail pane has the whole screen (`z`).
    pub zoom: bool,
    /// The terminal's size, for paging and for mapping clicks.
    pub screen: ratatui::layout::Rect,
    pub picker: Option<Picker>,
    pub overlay: Option<Overlay>,
    /// The kubeconfig's contexts, for `:ctx` (empty for world files).
    pub contexts: Vec<String>,
    pub tab: Tab,
    /// The facts behind the selected pod's chain, for the tabs other than `Link`.
    pub described: Option<(crate::world::ObjRef, crate::analysis::describe::PodView)>,
    pub work: Work,
    /// The last error or notice, shown in the status line until it expires (`say`).
    pub message: Option<String>,
    /// Ticks since `message` was said.
    pub message_age: u32,
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
            sort: Sort::Name,
            help: false,
            help_scroll: 0,
            detail_scroll: 0,
            zoom: false,
            screen: ratatui::layout::Rect::new(0, 0, 80, 24),
            picker: None,
            overlay: None,
            contexts: Vec::new(),
            tab: Tab::Link,
            described: None,
            work: Work::default(),
            message: None,
            message_age: 0,
            error: None,
            probed: false,
            quit: false,
            interrupted: false,
        }
    }

    /// Pods that pass the namespace and the filter, in display order.
    pub fn visible(&self) -> Vec<&PodChain> {
        let Some(r) = &self.report else {
            return Vec::new();
        };
        let filter = Filter::new(&self.filter);
        let mut pods: Vec<&PodChain> = r
            .pods
            .iter()
            .filter(|p| self.keeps_namespace(p))
            .filter(|p| filter.keeps(p))
            .collect();
        // Stable sorts, so names stay in order within a group.
        match self.sort {
            Sort::Name => {}
            Sort::Verdict => pods.sort_by_key(|p| std::cmp::Reverse(p.verdict())),
            Sort::BreaksAt => {
                pods.sort_by_key(|p| p.broken_link().map_or(usize::MAX, |l| l.link as usize))
            }
            Sort::ServiceAccount => pods.sort_by(|a, b| a.service_account.cmp(&b.service_account)),
            Sort::Identity => pods.sort_by(|a, b| a.identity.cmp(&b.identity)),
        }
        pods
    }

    /// `:ns` keeps this pod (every pod when no namespace is chosen).
    fn keeps_namespace(&self, p: &PodChain) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|n| &p.pod.namespace == n)
    }

    /// Every pod of the report that the namespace keeps (what the filter counts against).
    pub fn in_namespace(&self) -> usize {
        self.report.as_ref().map_or(0, |r| {
            r.pods.iter().filter(|p| self.keeps_namespace(p)).count()
        })
    }

    /// Shows `text` in the status line; it expires after a few seconds.
    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(text.into());
        self.message_age = 0;
    }

    /// The namespaces the report's pods are in, sorted.
    pub fn namespaces(&self) -> Vec<String> {
        self.report
            .iter()
            .flat_map(|r| r.pods.iter().map(|p| p.pod.namespace.clone()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
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

    /// The selected pod changed: its broken link, shown from the top.
    pub fn show_broken_link(&mut self) {
        self.link = self.current().map_or(0, Model::first_link);
        self.detail_scroll = 0;
    }

    /// The link to show first: the one that breaks, else the first.
    pub fn first_link(pod: &PodChain) -> usize {
        pod.links
            .iter()
            .position(|l| l.status >= Status::Warn)
            .unwrap_or(0)
    }
}

/// The pods filter: case-insensitive words matched against every column (name, owner,
/// ServiceAccount, identity, the broken link, finding codes, partial codes too); a leading `!`
/// keeps the pods that do not match.
struct Filter {
    needle: String,
    invert: bool,
}

impl Filter {
    fn new(text: &str) -> Filter {
        let (invert, rest) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        Filter {
            needle: rest.trim().to_ascii_lowercase(),
            invert,
        }
    }

    fn keeps(&self, p: &PodChain) -> bool {
        if self.needle.is_empty() {
            return true;
        }
        let has = |s: &str| s.to_ascii_lowercase().contains(&self.needle);
        let hit = has(&p.pod.to_string())
            || has(&p.workload.kubectl_ref())
            || has(&p.service_account)
            || p.identity.as_deref().is_some_and(has)
            || p.broken_link().is_some_and(|l| has(l.link.name()))
            || p.codes().iter().any(|c| has(c));
        hit != self.invert
    }
}
