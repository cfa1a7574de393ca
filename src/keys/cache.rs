//! The per-instance cache every function reads its keys through. Keys are read on first use
//! (never at start-up, which stays as fast as the empty function's), again once they are
//! `refresh_after` old, and at once, at most every [`UNKNOWN_KID_REREAD_SECONDS`], when a
//! token names a key the set lacks. A read that fails keeps the keys already held and logs a
//! warning; with none held, the request answers 5001.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::HasKid;
use crate::domain::clock::Clock;
use crate::error::ApiError;
use crate::ports::KeyRing;

/// How often a token naming an unknown key may make the cache read again.
pub const UNKNOWN_KID_REREAD_SECONDS: u64 = 10;

/// Where a set of keys is read from: the signing secret, or the public parameter.
pub trait KeySource: Send + Sync {
    type Set: HasKid + Send + Sync;

    fn fetch(&self) -> impl Future<Output = Result<Self::Set, ApiError>> + Send;
}

struct Held<T> {
    set: Option<Arc<T>>,
    /// When the set must be read again (Unix seconds); 0 before the first read.
    next_read_at: u64,
    /// When a token last made the cache read for an unknown `kid`.
    unknown_kid_read_at: Option<u64>,
}

pub struct KeyCache<S: KeySource> {
    source: S,
    refresh_after: u64,
    clock: Arc<dyn Clock>,
    held: Mutex<Held<S::Set>>,
}

impl<S: KeySource> KeyCache<S> {
    /// A cache that reads `source` again once its keys are `refresh_after` seconds old.
    pub fn new(source: S, refresh_after: u64, clock: Arc<dyn Clock>) -> KeyCache<S> {
        KeyCache {
            source,
            refresh_after,
            clock,
            held: Mutex::new(Held {
                set: None,
                next_read_at: 0,
                unknown_kid_read_at: None,
            }),
        }
    }

    async fn read(&self, held: &mut Held<S::Set>, now: u64) {
        match self.source.fetch().await {
            Ok(set) => {
                held.set = Some(Arc::new(set));
                held.next_read_at = now.saturating_add(self.refresh_after);
            }
            Err(error) if held.set.is_some() => {
                // The keys held stay in use; try again soon rather than on every request.
                tracing::warn!(
                    detail = error.detail(),
                    "keys could not be read again: the ones held stay in use"
                );
                held.next_read_at = now.saturating_add(UNKNOWN_KID_REREAD_SECONDS);
            }
            Err(error) => tracing::warn!(detail = error.detail(), "keys could not be read"),
        }
    }

    fn held(held: &Held<S::Set>) -> Result<Arc<S::Set>, ApiError> {
        held.set
            .clone()
            .ok_or(ApiError::StoreUnavailable("no keys could be read"))
    }
}

impl<S: KeySource> KeyRing<S::Set> for KeyCache<S> {
    async fn keys(&self) -> Result<Arc<S::Set>, ApiError> {
        let now = self.clock.now()?;
        let mut held = self.held.lock().await;
        if now >= held.next_read_at {
            self.read(&mut held, now).await;
        }
        Self::held(&held)
    }

    async fn keys_with(&self, kid: &str) -> Result<Arc<S::Set>, ApiError> {
        let set = self.keys().await?;
        if set.has_kid(kid) {
            return Ok(set);
        }
        let now = self.clock.now()?;
        let mut held = self.held.lock().await;
        let may_read = held
            .unknown_kid_read_at
            .is_none_or(|at| now >= at.saturating_add(UNKNOWN_KID_REREAD_SECONDS));
        if may_read {
            held.unknown_kid_read_at = Some(now);
            self.read(&mut held, now).await;
        }
        Self::held(&held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    struct Clock(AtomicU64);

    impl crate::domain::clock::Clock for Clock {
        fn now(&self) -> Result<u64, ApiError> {
            Ok(self.0.load(Ordering::SeqCst))
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Kids(Vec<String>);

    impl HasKid for Kids {
        fn has_kid(&self, kid: &str) -> bool {
            self.0.iter().any(|k| k == kid)
        }
    }

    /// A source that answers what it is told, counting its reads.
    struct Source {
        answer: StdMutex<Result<Kids, ApiError>>,
        reads: AtomicUsize,
    }

    impl KeySource for Source {
        type Set = Kids;

        async fn fetch(&self) -> Result<Kids, ApiError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.answer.lock().expect("lock").clone()
        }
    }

    fn cache(answer: Result<Kids, ApiError>) -> (KeyCache<Source>, Arc<Clock>) {
        let clock = Arc::new(Clock(AtomicU64::new(1000)));
        let source = Source {
            answer: StdMutex::new(answer),
            reads: AtomicUsize::new(0),
        };
        (KeyCache::new(source, 300, clock.clone()), clock)
    }

    fn kids(kids: &[&str]) -> Kids {
        Kids(kids.iter().map(|k| k.to_string()).collect())
    }

    fn set_answer(cache: &KeyCache<Source>, answer: Result<Kids, ApiError>) {
        *cache.source.answer.lock().expect("lock") = answer;
    }

    fn reads(cache: &KeyCache<Source>) -> usize {
        cache.source.reads.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn keys_are_read_on_first_use_and_again_when_stale() {
        let (cache, clock) = cache(Ok(kids(&["a"])));
        assert_eq!(reads(&cache), 0, "nothing is read before it is needed");
        assert_eq!(*cache.keys().await.expect("keys"), kids(&["a"]));
        clock.0.fetch_add(299, Ordering::SeqCst);
        set_answer(&cache, Ok(kids(&["b"])));
        assert_eq!(*cache.keys().await.expect("keys"), kids(&["a"]));
        assert_eq!(reads(&cache), 1);
        clock.0.fetch_add(1, Ordering::SeqCst);
        assert_eq!(*cache.keys().await.expect("keys"), kids(&["b"]));
        assert_eq!(reads(&cache), 2);
    }

    #[tokio::test]
    async fn an_unknown_kid_reads_again_at_most_every_ten_seconds() {
        let (cache, clock) = cache(Ok(kids(&["a"])));
        cache.keys().await.expect("keys");
        set_answer(&cache, Ok(kids(&["a", "b"])));
        assert!(cache.keys_with("b").await.expect("keys").has_kid("b"));
        assert_eq!(reads(&cache), 2);
        // A forger naming kids at will makes no more reads than one per ten seconds.
        for _ in 0..5 {
            assert!(
                !cache
                    .keys_with("forged")
                    .await
                    .expect("keys")
                    .has_kid("forged")
            );
        }
        assert_eq!(reads(&cache), 2);
        clock.0.fetch_add(10, Ordering::SeqCst);
        cache.keys_with("forged").await.expect("keys");
        assert_eq!(reads(&cache), 3);
        // A known kid never reads.
        cache.keys_with("a").await.expect("keys");
        assert_eq!(reads(&cache), 3);
    }

    #[tokio::test]
    async fn a_failed_read_keeps_the_keys_held_and_without_any_answers_5001() {
        let (cold, _) = cache(Err(ApiError::StoreUnavailable("down")));
        assert_eq!(
            cold.keys().await.map(|k| k.0.clone()),
            Err(ApiError::StoreUnavailable("no keys could be read"))
        );
        assert_eq!(
            cold.keys().await.err(),
            Some(ApiError::StoreUnavailable("no keys could be read")),
            "a cold instance tries again on the next request"
        );
        assert_eq!(reads(&cold), 2);

        let (warm, clock) = cache(Ok(kids(&["a"])));
        warm.keys().await.expect("keys");
        set_answer(&warm, Err(ApiError::StoreUnavailable("down")));
        clock.0.fetch_add(300, Ordering::SeqCst);
        assert_eq!(*warm.keys().await.expect("kept"), kids(&["a"]));
        assert_eq!(*warm.keys().await.expect("kept"), kids(&["a"]));
        assert_eq!(reads(&warm), 2, "not again on every request");
        set_answer(&warm, Ok(kids(&["c"])));
        clock
            .0
            .fetch_add(UNKNOWN_KID_REREAD_SECONDS, Ordering::SeqCst);
        assert_eq!(*warm.keys().await.expect("keys"), kids(&["c"]));
    }
}
