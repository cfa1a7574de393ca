//! Each function's checks and logic, free of I/O: they reach the world only through the
//! [`crate::ports`] traits, decide by the [`crate::domain`] rules, and answer through the HTTP
//! edge ([`crate::http`]) or, for the authorizer, the invocation's own ([`crate::invocation`]).

pub mod authorizer;
pub mod end_session;
pub mod issuing;
pub mod key_rotation;
pub mod list_sessions;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod revoking;
pub mod token_check;
pub mod token_keys;
pub mod user_info;
