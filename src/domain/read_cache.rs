//! What one instance keeps of what it read, for a fixed time: the policy of the caches that spare
//! DynamoDB's one item of a user domain (or an MCC route) a read on every request. An entry
//! expires a fixed time after it was read, however often it is used meanwhile, so a change (a
//! domain disabled) is seen within that time. At most `capacity` entries are kept, the least
//! recently used going first, so a flood of made-up keys cannot grow an instance's memory.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lru::LruCache;

use crate::domain::clock::Clock;

/// Entries each cache holds at most.
pub const CAPACITY: usize = 1000;

struct Entry<V> {
    value: V,
    /// Unix seconds from which the entry is no longer used.
    expires_at: u64,
}

/// Values read from a store, each kept `lifetime` seconds from its read. A lifetime of 0 keeps
/// nothing: every lookup misses and nothing is stored.
pub struct ReadCache<K, V> {
    lifetime: u64,
    clock: Arc<dyn Clock>,
    /// `None` when the cache is off.
    entries: Option<Mutex<LruCache<K, Entry<V>>>>,
}

/// When a read was sent: its entry's lifetime counts from then, so the value is never older
/// than the lifetime when it is last used. `None` when nothing is to be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadStarted(Option<u64>);

impl<K: Hash + Eq, V: Clone> ReadCache<K, V> {
    /// A cache keeping each entry `lifetime` seconds (0: off), at most `capacity` of them.
    pub fn new(lifetime: u64, capacity: usize, clock: Arc<dyn Clock>) -> Self {
        let entries = NonZeroUsize::new(capacity)
            .filter(|_| lifetime > 0)
            // The standard library's keyed hasher: keys come from requests.
            .map(|capacity| Mutex::new(LruCache::with_hasher(capacity, Default::default())));
        ReadCache {
            lifetime,
            clock,
            entries,
        }
    }

    /// Whether anything is ever kept.
    pub fn is_on(&self) -> bool {
        self.entries.is_some()
    }

    /// The value read for `key` less than the lifetime ago, now the most recently used; an
    /// expired entry is dropped.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.lock()?;
        // A clock that cannot be read keeps nothing alive.
        let now = self.clock.now().ok();
        match entries.get(key) {
            Some(entry) if now.is_some_and(|now| now < entry.expires_at) => {
                Some(entry.value.clone())
            }
            Some(_) => {
                entries.pop(key);
                None
            }
            None => None,
        }
    }

    /// To be taken just before the read whose answer [`ReadCache::insert`] will keep.
    pub fn read_started(&self) -> ReadStarted {
        match &self.entries {
            Some(_) => ReadStarted(self.clock.now().ok()),
            None => ReadStarted(None),
        }
    }

    /// Keeps what a read started at `read` answered for `key` (found or not alike), evicting the
    /// least recently used entry when full.
    pub fn insert(&self, key: K, value: V, read: ReadStarted) {
        let (Some(mut entries), ReadStarted(Some(read_at))) = (self.lock(), read) else {
            return;
        };
        let expires_at = read_at.saturating_add(self.lifetime);
        entries.put(key, Entry { value, expires_at });
    }

    /// Entries held, expired ones included until they are next looked up or evicted.
    pub fn len(&self) -> usize {
        self.lock().map_or(0, |entries| entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys held, the most recently used first.
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        self.lock().map_or_else(Vec::new, |entries| {
            entries.iter().map(|(key, _)| key.clone()).collect()
        })
    }

    fn lock(&self) -> Option<MutexGuard<'_, LruCache<K, Entry<V>>>> {
        // A panic while holding the lock leaves whole entries behind: they stay usable.
        self.entries
            .as_ref()
            .map(|entries| entries.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Shows the entries through their own `Debug`: a `Secret` in a value stays redacted.
impl<K: fmt::Debug + Hash + Eq, V: fmt::Debug> fmt::Debug for ReadCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("ReadCache");
        out.field("lifetime", &self.lifetime);
        if let Some(entries) = &self.entries {
            let entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
            let shown: Vec<(&K, &V, u64)> = entries
                .iter()
                .map(|(key, entry)| (key, &entry.value, entry.expires_at))
                .collect();
            out.field("entries", &shown);
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::Secret;
    use crate::error::ApiError;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Clock(AtomicU64);

    impl crate::domain::clock::Clock for Clock {
        fn now(&self) -> Result<u64, ApiError> {
            match self.0.load(Ordering::SeqCst) {
                0 => Err(ApiError::Internal("clock unreadable")),
                now => Ok(now),
            }
        }
    }

    impl Clock {
        fn advance(&self, seconds: u64) {
            self.0.fetch_add(seconds, Ordering::SeqCst);
        }
    }

    fn cache(lifetime: u64, capacity: usize) -> (ReadCache<String, Option<u32>>, Arc<Clock>) {
        let clock = Arc::new(Clock(AtomicU64::new(1_000)));
        (ReadCache::new(lifetime, capacity, clock.clone()), clock)
    }

    /// Keeps `value` for `key` as a read started now would.
    fn read(cache: &ReadCache<String, Option<u32>>, key: &str, value: Option<u32>) {
        let started = cache.read_started();
        cache.insert(key.to_owned(), value, started);
    }

    #[test]
    fn an_entry_lives_a_fixed_time_from_its_read_however_often_it_is_used() {
        let (cache, clock) = cache(10, CAPACITY);
        read(&cache, "C.DM.1", Some(1));
        for _ in 0..9 {
            assert_eq!(cache.get("C.DM.1"), Some(Some(1)));
            clock.advance(1);
        }
        assert_eq!(cache.get("C.DM.1"), Some(Some(1)), "9 s after the read");
        clock.advance(1);
        assert_eq!(cache.get("C.DM.1"), None, "10 s after the read");
        assert!(cache.is_empty(), "an expired entry is dropped when met");
    }

    #[test]
    fn the_lifetime_counts_from_when_the_read_started() {
        let (cache, clock) = cache(10, CAPACITY);
        let started = cache.read_started();
        clock.advance(3);
        cache.insert("C.DM.1".to_owned(), Some(1), started);
        clock.advance(6);
        assert_eq!(cache.get("C.DM.1"), Some(Some(1)));
        clock.advance(1);
        assert_eq!(cache.get("C.DM.1"), None);
    }

    #[test]
    fn not_found_is_kept_like_found() {
        let (cache, clock) = cache(10, CAPACITY);
        read(&cache, "Z.ZZ.404", None);
        assert_eq!(cache.get("Z.ZZ.404"), Some(None), "known not to exist");
        assert_eq!(cache.get("C.DM.1"), None, "never read");
        clock.advance(10);
        assert_eq!(cache.get("Z.ZZ.404"), None);
    }

    #[test]
    fn a_read_again_replaces_the_entry_and_its_lifetime() {
        let (cache, clock) = cache(10, CAPACITY);
        read(&cache, "C.DM.1", Some(1));
        clock.advance(8);
        read(&cache, "C.DM.1", Some(2));
        clock.advance(8);
        assert_eq!(cache.get("C.DM.1"), Some(Some(2)));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn zero_seconds_keeps_nothing() {
        let (cache, _) = cache(0, CAPACITY);
        assert!(!cache.is_on());
        read(&cache, "C.DM.1", Some(1));
        assert_eq!(cache.get("C.DM.1"), None);
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.read_started(), ReadStarted(None));
        let (no_room, _) = self::cache(10, 0);
        assert!(!no_room.is_on());
    }

    #[test]
    fn when_full_the_least_recently_used_goes_first() {
        let (cache, _) = cache(10, 3);
        for key in ["a", "b", "c"] {
            read(&cache, key, Some(1));
        }
        assert_eq!(cache.keys(), ["c", "b", "a"]);
        // A use counts as recent: "a" is now the last to go.
        assert!(cache.get("a").is_some());
        assert_eq!(cache.keys(), ["a", "c", "b"]);
        read(&cache, "d", None);
        assert_eq!(cache.keys(), ["d", "a", "c"]);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("b"), None, "evicted");
    }

    #[test]
    fn a_flood_of_new_keys_stays_at_the_capacity() {
        let (cache, _) = cache(10, CAPACITY);
        for n in 0..(3 * CAPACITY) {
            let key = format!("F.LD.{n}");
            assert_eq!(cache.get(key.as_str()), None);
            read(&cache, &key, None);
            assert!(cache.len() <= CAPACITY);
        }
        assert_eq!(cache.len(), CAPACITY);
        let expected: Vec<String> = (2 * CAPACITY..3 * CAPACITY)
            .rev()
            .map(|n| format!("F.LD.{n}"))
            .collect();
        assert_eq!(cache.keys(), expected);
    }

    #[test]
    fn an_unreadable_clock_keeps_nothing_and_serves_nothing() {
        let (cache, clock) = cache(10, CAPACITY);
        read(&cache, "C.DM.1", Some(1));
        clock.0.store(0, Ordering::SeqCst);
        assert_eq!(cache.get("C.DM.1"), None);
        read(&cache, "C.DM.2", Some(2));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn debug_shows_no_secret() {
        let clock = Arc::new(Clock(AtomicU64::new(1_000)));
        let cache: ReadCache<String, Secret> = ReadCache::new(10, CAPACITY, clock);
        let started = cache.read_started();
        cache.insert("C.DM.1".into(), Secret::new("hunter2"), started);
        let shown = format!("{cache:?}");
        assert!(
            shown.contains("C.DM.1") && shown.contains("Secret(***)"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
