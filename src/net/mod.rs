//! The network plumbing the collector and the probes share, so neither imports the other's:
//! one HTTP client (proxy, CA, timeouts, the redacted transcript), one bounded retry policy,
//! each cloud's endpoints, and the Kubernetes API's retry and error wording.

pub mod api_versions;
pub mod cloud;
pub mod http;
pub mod kube_calls;
pub mod retry;
