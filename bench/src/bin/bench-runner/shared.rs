//! What more than one command needs: signing in, the figures' formats, and the binaries' paths.

use std::path::PathBuf;
use std::time::Duration;

use bench::stats::percentile;
use bench::world::{Fallible, Tokens, invoke};
use testkit::prelude::WorldLogin;

/// A sign-in through the login function, outside anything measured.
pub async fn sign_in(login: &WorldLogin, event: &str) -> Fallible<Tokens> {
    invoke(login, event).await?.1.tokens()
}

pub fn trim(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub fn latency_summary(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let max = samples.last().copied().unwrap_or_default();
    (percentile(&samples, 50.0), percentile(&samples, 99.0), max)
}

/// A path that must be a file: a binary to run.
pub fn existing_file(path: &str) -> Fallible<PathBuf> {
    let path = PathBuf::from(path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{}: no such file", path.display()))
    }
}
