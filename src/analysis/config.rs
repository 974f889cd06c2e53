//! What the analysis is told besides the world: the catalogue with `--severity` overrides, the
//! targets named on the command line and the instant tokens are judged at. Built once at the
//! edge and carried by every front end (`check`, `report`, fleets, the TUI and its exports), so
//! the same flags give the same verdicts everywhere.

use jiff::Timestamp;

use super::{Catalog, Options, Selection};
use crate::world::{TargetHint, World};

#[derive(Debug, Clone)]
pub struct Config {
    pub catalog: Catalog,
    /// `--keyvault`, `--blob`, `--user-delegation`.
    pub targets: Vec<TargetHint>,
    /// `--now`: judge token lifetimes at this instant.
    pub now: Option<Timestamp>,
}

impl Default for Config {
    /// The shipped catalogue, no command-line targets, the world's own instant.
    fn default() -> Self {
        Config {
            catalog: Catalog::builtin(),
            targets: Vec::new(),
            now: None,
        }
    }
}

impl Config {
    /// The options of one analysis of `world`: tokens are judged at `--now`, else when the
    /// world was captured, else at `clock` (a live read, now).
    pub fn options(&self, world: &World, selection: Selection, clock: Timestamp) -> Options {
        Options {
            selection,
            now: self.instant(world, clock),
            targets: self.targets.clone(),
        }
    }

    /// The instant tokens are judged at: `--now`, else when the world was captured, else
    /// `clock`.
    pub fn instant(&self, world: &World, clock: Timestamp) -> Timestamp {
        self.now.or(world.info.captured_at).unwrap_or(clock)
    }
}
