//! What the cases of one property did, to show the property was not vacuous.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::families::Family;

/// What the cases of one property did, to show the property was not vacuous.
#[derive(Default)]
pub struct Stats {
    pub endpoint: AtomicUsize,
    pub not_events: AtomicUsize,
    codes: Mutex<BTreeMap<u64, usize>>,
    panic_sites: Mutex<BTreeMap<String, usize>>,
    pub families: Mutex<BTreeMap<Family, usize>>,
}

impl Stats {
    pub fn seen(&self, code: u64) {
        *lock(&self.codes).entry(code).or_default() += 1;
    }

    pub fn malformed(&self, panics: &[String]) {
        if let Some(first) = panics.first() {
            *lock(&self.panic_sites).entry(first.clone()).or_default() += 1;
        }
    }

    pub fn family(&self, family: Family) {
        *lock(&self.families).entry(family).or_default() += 1;
    }

    pub fn codes(&self) -> BTreeMap<u64, usize> {
        lock(&self.codes).clone()
    }

    pub fn malformed_count(&self) -> usize {
        lock(&self.panic_sites).values().sum()
    }

    pub fn report(&self, name: &str, cases: u32) {
        eprintln!(
            "{name}: {cases} cases, {} answered by the endpoint, {} malformed (4001), \
             {} no event (5000); codes {:?}; conversion panics at {:?}; families {:?}",
            self.endpoint.load(Ordering::Relaxed),
            self.malformed_count(),
            self.not_events.load(Ordering::Relaxed),
            self.codes(),
            lock(&self.panic_sites),
            lock(&self.families),
        );
    }
}

pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
