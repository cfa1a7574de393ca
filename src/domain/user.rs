//! End users: one per (user domain, Twitter account), with a stable `uid`.

use serde::Serialize;

use crate::domain::token::derived_id;

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

/// The end user's stable id: the same Twitter account on the same user domain always gets the
/// same `uid`, so login needs no lookup to find it.
pub fn uid_for(user_domain: &str, twitter_user_id: &str) -> String {
    derived_id("twitter-auth-login/uid/v1", &[user_domain, twitter_user_id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_stable_per_domain_and_twitter_user() {
        let uid = uid_for("C.DM.1", "42");
        assert_eq!(uid, uid_for("C.DM.1", "42"));
        assert_ne!(uid, uid_for("C.DM.2", "42"));
        assert_ne!(uid, uid_for("C.DM.1", "43"));
        assert!(uid.len() <= 64);
        assert!(
            uid.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}
