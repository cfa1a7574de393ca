//! End users: one per (user domain, Twitter account), with a stable `uid`
//! ([`crate::domain::derivation::DerivationKeys::uid`]).

use serde::Serialize;

/// The `status` of a user record that may sign in.
pub const USER_ACTIVE: i64 = 1;

/// The Twitter account a token belongs to, as Twitter named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwitterUser {
    pub id: String,
    pub username: Option<String>,
}

/// An end user's record: what is stored, what userInfo answers and what the admin CLI shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub uid: String,
    pub user_domain: String,
    pub twitter_user_id: String,
    pub twitter_username: Option<String>,
    pub register_time: u64,
    pub last_login_time: u64,
    pub status: i64,
}
