//! Everything a logging subscriber writes, kept for the test to read; and the log lines of one
//! test's work, as JSON.

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::Value;

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8(bytes).expect("utf-8 logs")
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

thread_local! {
    /// Where this thread's log lines go while a test captures them.
    static CAPTURING: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// The writer of the process's one capturing subscriber: each thread's lines go to what that
/// thread captures, if anything.
#[derive(Clone, Copy, Default)]
pub struct ThreadCapture;

impl Write for ThreadCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with(|capturing| match &mut *capturing.borrow_mut() {
            Some(captured) => captured.write(bytes),
            None => Ok(bytes.len()),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ThreadCapture {
    type Writer = ThreadCapture;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Every JSON line the functions write, at INFO, while `work` runs on this thread (a test on
/// tokio's current-thread runtime runs all its tasks there).
///
/// One global subscriber, installed once, rather than one per test: with scoped subscribers
/// coming and going on test threads, tracing can cache a callsite as unwanted when another
/// thread meets it first (its "just one dispatcher" shortcut), and a test then sees no lines.
pub async fn logged<F: Future>(work: F) -> (F::Output, Vec<Value>) {
    let installed = *INSTALLED.get_or_init(|| {
        let subscriber = twitter_auth_login::logging::subscriber("INFO", true, ThreadCapture);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
    assert!(
        installed,
        "another global subscriber is set in this test binary"
    );
    let captured = Captured::default();
    CAPTURING.with(|capturing| *capturing.borrow_mut() = Some(captured.clone()));
    let output = work.await;
    CAPTURING.with(|capturing| *capturing.borrow_mut() = None);
    let lines = captured
        .text()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    (output, lines)
}
