//! What one request carries through the layers without every signature naming it: its
//! deadline, and the time it spends waiting on each dependency. Each invocation runs inside
//! [`run`]; the adapters bound every call by what is left of the deadline ([`call`]) and add
//! the time it took.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Kept back from the invocation's deadline to build and send the answer.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(200);

/// The dependencies whose time is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    DynamoDb,
    Twitter,
    /// Secrets Manager and SSM, where the keys are.
    Keys,
}

/// Time spent waiting on the dependencies during one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DependencyTime {
    pub dynamodb: Duration,
    pub twitter: Duration,
    pub keys: Duration,
}

struct RequestBudget {
    deadline: Option<Instant>,
    dynamodb_us: AtomicU64,
    twitter_us: AtomicU64,
    keys_us: AtomicU64,
}

tokio::task_local! {
    static BUDGET: RequestBudget;
}

/// Deadlines below this (September 2001) are no Unix times: `cargo lambda watch` sends the
/// function's timeout there, as a duration.
const EARLIEST_EPOCH_DEADLINE_MS: u64 = 1_000_000_000_000;

/// The instant by which dependencies must have answered, for an invocation whose Lambda
/// deadline is `deadline_ms` (Unix milliseconds; 0 means none, as outside Lambda).
pub fn from_lambda(deadline_ms: u64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let left_ms = if deadline_ms < EARLIEST_EPOCH_DEADLINE_MS {
        deadline_ms
    } else {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        deadline_ms.saturating_sub(now_ms)
    };
    Some(Instant::now() + Duration::from_millis(left_ms).saturating_sub(ANSWER_MARGIN))
}

/// Runs `work` within this deadline; returns its output and the time spent on
/// each dependency.
pub async fn run<F: Future>(deadline: Option<Instant>, work: F) -> (F::Output, DependencyTime) {
    let budget = RequestBudget {
        deadline,
        dynamodb_us: AtomicU64::new(0),
        twitter_us: AtomicU64::new(0),
        keys_us: AtomicU64::new(0),
    };
    BUDGET
        .scope(budget, async {
            let output = work.await;
            let time = BUDGET
                .try_with(|budget| DependencyTime {
                    dynamodb: Duration::from_micros(budget.dynamodb_us.load(Ordering::Relaxed)),
                    twitter: Duration::from_micros(budget.twitter_us.load(Ordering::Relaxed)),
                    keys: Duration::from_micros(budget.keys_us.load(Ordering::Relaxed)),
                })
                .unwrap_or_default();
            (output, time)
        })
        .await
}

/// What is left of the request's deadline; `None` without one.
pub fn remaining() -> Option<Duration> {
    BUDGET
        .try_with(|budget| budget.deadline)
        .ok()
        .flatten()
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

/// The request's deadline passed before the dependency answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfTime;

/// Calls a dependency within what is left of the deadline, and counts the time it took.
pub async fn call<F: Future>(dependency: Dependency, work: F) -> Result<F::Output, OutOfTime> {
    // On the heap: SDK futures are large, and a request nests several.
    let work = Box::pin(work);
    let started = Instant::now();
    let output = match remaining() {
        None => Ok(work.await),
        Some(left) if left.is_zero() => Err(OutOfTime),
        Some(left) => tokio::time::timeout(left, work)
            .await
            .map_err(|_| OutOfTime),
    };
    let elapsed = started.elapsed().as_micros() as u64;
    let _ = BUDGET.try_with(|budget| {
        let counter = match dependency {
            Dependency::DynamoDb => &budget.dynamodb_us,
            Dependency::Twitter => &budget.twitter_us,
            Dependency::Keys => &budget.keys_us,
        };
        counter.fetch_add(elapsed, Ordering::Relaxed);
    });
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_are_timed_and_bounded_by_the_deadline() {
        let deadline = Some(Instant::now() + Duration::from_millis(150));
        let ((fast, slow), time) = run(deadline, async {
            let fast = call(Dependency::DynamoDb, async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                1
            })
            .await;
            let slow = call(Dependency::Twitter, async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                2
            })
            .await;
            (fast, slow)
        })
        .await;
        assert_eq!(fast, Ok(1));
        assert_eq!(slow, Err(OutOfTime));
        assert!(time.dynamodb >= Duration::from_millis(20));
        assert!(
            time.twitter >= Duration::from_millis(100) && time.twitter < Duration::from_secs(2)
        );
        // Nothing is left: a next call fails at once.
        let (late, _) = run(
            Some(Instant::now()),
            call(Dependency::DynamoDb, async { 3 }),
        )
        .await;
        assert_eq!(late, Err(OutOfTime));
    }

    #[tokio::test]
    async fn outside_a_budget_or_without_a_deadline_nothing_is_bounded() {
        assert_eq!(remaining(), None);
        assert_eq!(call(Dependency::Twitter, async { 7 }).await, Ok(7));
        let (value, _) = run(None, async { remaining() }).await;
        assert_eq!(value, None);
    }

    #[test]
    fn the_lambda_deadline_keeps_a_margin() {
        assert_eq!(from_lambda(0), None);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let deadline = from_lambda(now_ms + 1000).expect("a deadline");
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_millis(800) && left > Duration::from_millis(600),
            "{left:?}"
        );
        let past = from_lambda(now_ms.saturating_sub(5000)).expect("a deadline");
        assert!(past <= Instant::now());
        // An emulator's timeout in place of the deadline: ten minutes from now.
        let emulated = from_lambda(600_000).expect("a deadline");
        let left = emulated.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(590) && left <= Duration::from_secs(600),
            "{left:?}"
        );
    }
}
