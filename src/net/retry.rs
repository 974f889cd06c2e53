//! The one bounded retry policy of every widiag request that a server may throttle (429) or
//! briefly fail (5xx): ARM and Graph reads, the Entra exchange, Kubernetes lists and the
//! TokenRequest. Bounded so a run stays within its timeouts.

use std::future::Future;
use std::time::Duration;

/// Attempts at a request, the first included.
pub const ATTEMPTS: u32 = 3;
/// Longest wait between attempts, whatever Retry-After asks.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// The wait before attempt `attempt + 1`: Retry-After when given, else exponential, capped.
pub fn backoff(attempt: u32, retry_after: Option<u64>) -> Duration {
    let exp = Duration::from_millis(250 << attempt.min(4));
    retry_after.map_or(exp, Duration::from_secs).min(MAX_WAIT)
}

/// Calls until `again` declines (or the attempts run out); the last result and the attempts
/// made. `again` gives `Some(retry_after)` for a result worth asking again.
pub async fn retrying<T, Fut>(
    mut call: impl FnMut() -> Fut,
    again: impl Fn(&T) -> Option<Option<u64>>,
) -> (T, u32)
where
    Fut: Future<Output = T>,
{
    let mut attempt = 1;
    loop {
        let result = call().await;
        match again(&result) {
            Some(retry_after) if attempt < ATTEMPTS => {
                tokio::time::sleep(backoff(attempt, retry_after)).await;
                attempt += 1;
            }
            _ => return (result, attempt),
        }
    }
}

/// What a failure message adds when it came after retries: ` (after 3 attempts; Retry-After 1s)`.
pub fn after_attempts(attempts: u32, retry_after: Option<u64>) -> String {
    match (attempts, retry_after) {
        (0 | 1, _) => String::new(),
        (n, Some(s)) => format!(" (after {n} attempts; Retry-After {s}s)"),
        (n, None) => format!(" (after {n} attempts)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        assert!(backoff(1, Some(120)) <= MAX_WAIT);
        assert!(backoff(9, None) <= MAX_WAIT);
        assert_eq!(backoff(1, Some(1)), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn asks_again_only_while_told_and_at_most_attempts_times() {
        let mut calls = 0;
        let (last, attempts) = retrying(
            || {
                calls += 1;
                std::future::ready(calls)
            },
            // Retry-After 0: no real waiting in a test.
            |_| Some(Some(0)),
        )
        .await;
        assert_eq!((last, attempts), (ATTEMPTS, ATTEMPTS));
        let (_, attempts) = retrying(|| std::future::ready(()), |_| None).await;
        assert_eq!(attempts, 1);
    }
}
