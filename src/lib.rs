//! widiag: follows one pod's Azure Workload Identity chain and names the link that breaks.
//!
//! Architecture (see docs/architecture.md):
//! - [`world`]: the pure data model of cluster and Azure objects, and its file format parser.
//! - [`analysis`]: the pure core, `World -> Report` (chains of links with findings). No I/O.
//! - [`output`]: front ends that only render a [`analysis::Report`] (text, JSON).
//! - [`cli`]: the command line edge; the only place that touches files, the terminal and `anyhow`.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod cli;
pub mod lab;
pub mod output;
pub mod world;
