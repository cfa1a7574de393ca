//! Coverage: every answer the document describes came up at least once.

use super::harness::Harness;

/// Documented answers no case in `operations` produces. The discovery documents fail only as
/// API Gateway fails any route (THROTTLED, INTEGRATION_TIMEOUT, DEFAULT_5XX: the consistency
/// test checks those answers against every route), or, for the JWKS, when no keys can be read.
const NOT_PRODUCED: &[(&str, u16, i64, &str)] = &[
    ("openidConfiguration", 503, 5001, ""),
    ("openidConfiguration", 500, 5000, ""),
    ("jwks", 500, 5000, ""),
];

impl Harness {
    /// Every (code, extMsg) the document gives the operation was answered, bar `NOT_PRODUCED`.
    pub fn assert_covered(&self, id: &str) {
        let mut missing = Vec::new();
        for status in self.contract.statuses(id) {
            let seen = self.seen.get(&(id.to_owned(), status));
            for (code, ext) in self.contract.answers(id, status) {
                let excused = NOT_PRODUCED.contains(&(id, status, code, ext.as_str()));
                if !excused && !seen.is_some_and(|s| s.contains(&(code, ext.clone()))) {
                    missing.push(format!("HTTP {status} code {code} extMsg {ext:?}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{id}: documented, never answered: {missing:?}"
        );
    }
}
