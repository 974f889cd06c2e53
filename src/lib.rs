//! widiag: follows one pod's Azure Workload Identity chain and names the link that breaks.
//!
//! Architecture (see docs/architecture.md):
//! - [`world`]: the pure data model of cluster and Azure objects, and its file format parser.
//! - [`analysis`]: the pure core, `World -> Report` (chains of links with findings). No I/O.
//! - [`collect`]: reads a live cluster (kube-rs) and Azure (ARM, Graph) into a world.
//! - [`net`]: what [`collect`] and [`probe`] share: the HTTP client, the retry policy, cloud
//!   endpoints, Kubernetes call wording (neither imports the other's).
//! - [`probe`]: the live token, issuer, exchange and Key Vault checks, recorded as world facts.
//! - `lab` (the `lab` cargo feature, on by default): loopback servers that speak the real
//!   protocols, built from a world.
//! - [`bundle`]: support bundles: the part of a world a chain touches, scrubbed, replayable.
//! - [`tui`]: the terminal UI (model, update, views, effect runner).
//! - [`output`]: front ends that only render a [`analysis::Report`] (text, JSON).
//! - [`untrusted`]: the trust boundary: untrusted text made visible, quoted, redacted, and
//!   where a token may go (docs/security.md).
//! - [`cli`]: the command line edge; the only place that uses `anyhow`. Files are read and
//!   written at the edges only: `cli`, the TUI's export, `--log` (`collect::append_log`) and the
//!   lab's client files; the core never touches them.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod bundle;
pub mod cli;
pub mod collect;
#[cfg(feature = "lab")]
pub mod lab;
pub mod net;
pub mod output;
pub mod probe;
pub mod tui;
pub mod untrusted;
pub mod world;
