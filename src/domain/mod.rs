//! The pure types and rules of sign-in and sessions: no HTTP, no AWS, no I/O beyond the clock
//! and the operating system's random source.
//!
//! - [`user_domain`]: user domain names, records, and whether one may be used.
//! - [`user`]: end users and their stable `uid`.
//! - [`token`]: tokens and ids, minted, hashed and parsed back.
//! - [`session`]: sessions and token items, and the rule that decides whether a token is live.
//! - [`grant`]: the pair a login or refresh hands out.
//! - [`secret`] and [`clock`]: a string that never reaches a log, and the one clock.

pub mod clock;
pub mod grant;
pub mod secret;
pub mod session;
pub mod token;
pub mod user;
pub mod user_domain;
