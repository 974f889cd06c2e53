//! Many clusters at once (`check --all-contexts`): each cluster's report, or why it could not be
//! read. A cluster that is down or denies access is part of the answer, not the end of it.

use super::{Report, Status};

#[derive(Debug, Clone)]
pub struct ClusterOutcome {
    pub context: String,
    pub result: Result<Report, String>,
}

impl ClusterOutcome {
    /// A cluster that could not be read is `unknown`: nothing is known to work there.
    pub fn verdict(&self) -> Status {
        match &self.result {
            Ok(r) => r.verdict(),
            Err(_) => Status::Unknown,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub clusters: Vec<ClusterOutcome>,
}

impl Fleet {
    pub fn verdict(&self) -> Status {
        self.clusters
            .iter()
            .map(ClusterOutcome::verdict)
            .max()
            .unwrap_or(Status::Pass)
    }

    /// Pods per verdict over every cluster that was read.
    pub fn pods(&self, status: Status) -> usize {
        self.clusters
            .iter()
            .filter_map(|c| c.result.as_ref().ok())
            .flat_map(|r| &r.pods)
            .filter(|p| match status {
                Status::Pass => p.verdict() <= Status::Skip,
                s => p.verdict() == s,
            })
            .count()
    }
}
