//! Panics inside the edge.

use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    /// Where the panics of this thread happened, since the last `take_panics`.
    static PANICKED_AT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Where lambda_http's event conversion panics: the edge catches these.
pub fn in_conversion(place: &str) -> bool {
    ["lambda_http", "aws_lambda_events", "query_map"]
        .iter()
        .any(|krate| place.contains(krate))
}

/// Records every panic's place; the edge catches conversion panics by design, so those are
/// not printed, and anything else still is.
pub fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info.location().map_or_else(String::new, |l| {
                let file = l.file();
                let file = file
                    .rsplit_once("/registry/src/")
                    .map_or(file, |(_, f)| f.split_once('/').map_or(f, |(_, rest)| rest));
                format!("{file}:{}", l.line())
            });
            let quiet = in_conversion(&place);
            PANICKED_AT.with(|p| p.borrow_mut().push(place));
            if !quiet {
                previous(info);
            }
        }));
    });
}

pub fn take_panics() -> Vec<String> {
    PANICKED_AT.with(|p| std::mem::take(&mut *p.borrow_mut()))
}
