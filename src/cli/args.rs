//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "widiag",
    version,
    about = "Shows exactly where an Azure Workload Identity chain breaks on Kubernetes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Headless check (the form `widiag --pod NS/NAME --check`).
    #[arg(long, global = false)]
    pub check: bool,
    #[command(flatten)]
    pub check_args: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse pods and print their chains; exit 1 when a finding reaches --fail-on.
    Check(Box<CheckArgs>),
    /// Serve a world on loopback as a Kubernetes API server and OIDC issuer, until Ctrl-C.
    #[cfg(feature = "lab")]
    Lab(LabArgs),
    /// Analyse one of the embedded seed worlds (no cluster or cloud needed).
    Demo(DemoArgs),
    /// Write a support bundle (a redacted world file that replays offline), Markdown or HTML.
    Report(Box<ReportArgs>),
    /// List the finding catalogue (codes, severities, titles).
    Codes {
        /// The whole catalogue as Markdown (docs/findings.md is this output).
        #[arg(long)]
        markdown: bool,
    },
    /// What the azure-workload-identity webhook does, release by release, with the source of each
    /// behaviour.
    Webhook {
        /// One release (e.g. v1.5.1) instead of the whole table.
        #[arg(long, value_name = "VERSION")]
        release: Option<String>,
        /// The whole table as Markdown (docs/webhook.md is this output).
        #[arg(long, conflicts_with = "release")]
        markdown: bool,
    },
    /// Write a synthetic world of the given size to stdout (for benchmarks and soak tests).
    GenerateWorld(GenerateArgs),
}

#[cfg(feature = "lab")]
#[derive(Debug, Clone, Args)]
pub struct LabArgs {
    /// World file(s) to serve; without it, the embedded world named by --demo.
    #[arg(long = "world", short = 'w', value_name = "FILE")]
    pub worlds: Vec<PathBuf>,
    /// Embedded world to serve when no --world is given.
    #[arg(long, default_value = super::demo::DEFAULT)]
    pub demo: String,
    /// Where to write the kubeconfig that points at the lab.
    #[arg(long, value_name = "PATH", default_value = "widiag-lab.kubeconfig")]
    pub kubeconfig: PathBuf,
    /// Also write pod.env and its token file, to run any program "as" this pod (NS/NAME).
    #[arg(long, value_name = "NS/NAME")]
    pub pod: Option<String>,
    /// Append every request the lab answers to FILE as JSON lines (method, URL without its
    /// query, status, the bearer's subject, user agent; never a body or a token), to check
    /// what a client (widiag included) asked.
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Embedded world to open (`widiag demo --list` shows them).
    #[arg(long, default_value = super::demo::DEFAULT)]
    pub world: String,
    /// List the embedded worlds.
    #[arg(long)]
    pub list: bool,
    /// Print the report instead of opening the TUI (the default when stdout is not a terminal,
    /// and in a build without the lab).
    #[arg(long)]
    pub headless: bool,
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    #[arg(long, default_value_t = 10_000)]
    pub pods: usize,
    #[arg(long, default_value_t = 2_000)]
    pub service_accounts: usize,
    #[arg(long, default_value_t = 500)]
    pub identities: usize,
    #[arg(long, default_value_t = 3)]
    pub fics_per_identity: usize,
    #[arg(long, default_value_t = 50)]
    pub namespaces: usize,
}

/// What to analyse: world files or the live cluster, which pods, which resources.
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// World file(s) (YAML or JSON) to analyse offline; repeat to merge.
    #[arg(long = "world", short = 'w', value_name = "FILE")]
    pub worlds: Vec<PathBuf>,
    /// One pod: NAME (in --namespace) or NAMESPACE/NAME.
    #[arg(long, short = 'p', value_name = "POD")]
    pub pod: Option<String>,
    /// One workload, as kubectl names it (deploy/NAME, statefulset/NAME, daemonset/NAME,
    /// cronjob/NAME, job/NAME, rs/NAME) in --namespace: its pods, or the pod its template would
    /// make when none exists.
    #[arg(long, value_name = "KIND/NAME", conflicts_with = "pod")]
    pub workload: Option<String>,
    /// Namespace for --pod or --workload, or the namespace to analyse.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Every pod that uses workload identity (the default without --pod/--namespace).
    #[arg(long, short = 'A', conflicts_with_all = ["pod", "namespace", "workload"])]
    pub all: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// How the chains are judged: what `check`, the TUI and `demo` all accept.
#[derive(Debug, Clone, Default, Args)]
pub struct AnalysisArgs {
    /// Override a finding's severity: CODE=error|warning|unknown|info (repeatable).
    #[arg(long = "severity", value_name = "CODE=LEVEL")]
    pub severities: Vec<String>,
    /// A Key Vault (name or URI) the pod is meant to read.
    #[arg(long, value_name = "VAULT")]
    pub keyvault: Vec<String>,
    /// A storage account (NAME, NAME/CONTAINER or blob URL) the pod is meant to use.
    #[arg(long, value_name = "ACCOUNT")]
    pub blob: Vec<String>,
    /// The blob target needs a user delegation key (the app signs SAS URLs).
    #[arg(long)]
    pub user_delegation: bool,
    /// Judge token lifetimes at this instant (RFC 3339) instead of the world's capture time.
    #[arg(long, value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Manifests to check as if applied (YAML or JSON, multi-document, `kind: List`, the output
    /// of `helm template` or `kustomize build`): a file, a directory (its .yaml, .yml and .json
    /// files, recursively) or `-` for stdin; repeatable. Namespaced objects without a namespace
    /// get --namespace (else default). Applied over --world, else over the live cluster.
    #[arg(
        long = "filename",
        short = 'f',
        value_name = "FILE|DIR|-",
        conflicts_with_all = ["pod", "workload", "all", "all_contexts", "contexts"]
    )]
    pub filenames: Vec<PathBuf>,
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Exit 1 when any pod's verdict is at least this bad.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// Colour: auto follows the terminal and NO_COLOR.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Check every context of the kubeconfig, concurrently, as one fleet report.
    #[arg(long, conflicts_with_all = ["contexts", "worlds", "context"])]
    pub all_contexts: bool,
    /// Check these kubeconfig contexts (comma-separated or repeated) as one fleet report.
    #[arg(long, value_delimiter = ',', value_name = "CONTEXT", conflicts_with_all = ["worlds", "context"])]
    pub contexts: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// bundle: a redacted world file that `widiag --world` replays; markdown: for a ticket or
    /// pull request; html: one self-contained page.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Bundle)]
    pub format: ReportFormat,
    /// Where to write it (`-` for stdout); default widiag-report-NAMESPACE-POD.EXT.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace namespaces, names, subscription and tenant IDs with stable pseudonyms.
    #[arg(long)]
    pub redact_names: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Bundle,
    Markdown,
    Html,
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Bundle => "yaml",
            ReportFormat::Markdown => "md",
            ReportFormat::Html => "html",
        }
    }
}

/// Where a live run reads from (used when no --world is given).
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, value_name = "PATH", env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Which Azure credential reads identities and credentials.
    #[arg(long, value_enum, default_value_t = crate::collect::AzureAuth::Auto)]
    pub azure_auth: crate::collect::AzureAuth,
    /// Azure cloud: AzurePublicCloud, AzureChinaCloud, AzureUSGovernmentCloud.
    #[arg(long, default_value = "AzurePublicCloud")]
    pub cloud: String,
    /// An Entra authority of your own (Azure Stack) that may receive service-account tokens,
    /// besides the known clouds' (a pod's AZURE_AUTHORITY_HOST never decides where a token goes).
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,
    /// Subscription to read (repeatable; default: every one the credential can read).
    #[arg(long = "subscription", value_name = "ID")]
    pub subscriptions: Vec<String>,
    /// Read objects only: no token request, exchange or resource probe.
    #[arg(long)]
    pub offline: bool,
    /// Exchanges and probes in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Seconds before any one request is given up.
    #[arg(long, default_value_t = 20)]
    pub timeout: u64,
    /// Print every request made (redacted) to stderr.
    #[arg(long)]
    pub transcript: bool,
    /// Append every request made (redacted) and what could not be read to this file.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Running inside the workload: present its own AZURE_FEDERATED_TOKEN_FILE (the pod it is
    /// bound to, or --pod) instead of requesting a token for it.
    #[arg(long)]
    pub in_pod: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    /// JUnit XML: a test suite per pod, a test case per link.
    Junit,
    /// SARIF 2.1.0: a result per failing, warning or unknown link, its code as the rule.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Fail,
    Warn,
    Unknown,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}
