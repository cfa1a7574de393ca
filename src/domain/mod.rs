//! The pure types and rules of sign-in and sessions: no HTTP, no AWS, no I/O beyond the clock
//! and the operating system's random source.
//!
//! - [`user_domain`]: user domain names, records, and whether one may be used.
//! - [`user`]: end users and their stable `uid`.
//! - [`token`]: tokens and ids, minted, hashed and parsed back.
//! - [`session`]: sessions and token items, and the rule that decides whether a token is live;
//!   [`session_cap`]: how many live sessions a user may have; [`listing`]: the end user's list
//!   of them, page by page.
//! - [`grant`]: the pair a login or refresh hands out; [`access_token`]: the access token's
//!   claims.
//! - [`derivation`]: the keyed `uid` and a refresh token's successor, from the stack's
//!   derivation secret.
//! - [`secret`] and [`clock`]: a string that never reaches a log, and the one clock.
//! - [`read_cache`]: what an instance keeps of what it read, and for how long.

pub mod access_token;
pub mod clock;
pub mod derivation;
pub mod grant;
pub mod listing;
pub mod read_cache;
pub mod secret;
pub mod session;
pub mod session_cap;
pub mod token;
pub mod user;
pub mod user_domain;
