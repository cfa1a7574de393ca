//! The end user's own list of their sessions: what each entry says, and the opaque token that
//! carries a listing on to its next page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::domain::session::{SessionStatus, session_end};
use crate::domain::token::{ID_CHARS, is_url_safe};

/// The most sessions one page lists.
pub const PAGE_SIZE: usize = 100;

/// A session as the store lists it, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredListing {
    pub session_id: String,
    pub app_id: String,
    pub created_at: u64,
    pub last_used_at: u64,
    pub user_agent: String,
    pub expiration_time: u64,
    pub status: SessionStatus,
}

/// One entry of the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedSession {
    pub session_id: String,
    pub app_id: String,
    pub created_at: u64,
    pub last_used_at: u64,
    pub user_agent: String,
    /// The caller's own session.
    pub current: bool,
}

impl StoredListing {
    /// The entry the caller sees, if the session is still live at `now`; `current` is the
    /// caller's own session.
    pub fn listed(self, now: u64, session_max: u64, current: &str) -> Option<ListedSession> {
        let live = self.status == SessionStatus::Active
            && now < session_end(self.created_at, self.expiration_time, session_max);
        live.then(|| ListedSession {
            current: self.session_id == current,
            session_id: self.session_id,
            app_id: self.app_id,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            user_agent: self.user_agent,
        })
    }
}

/// Where a listing stopped: the last session of a page, by its place in the index (its
/// `activeSince`, then its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub active_since: u64,
    pub session_id: String,
}

/// What marks a token as this listing's, and of this layout.
const TOKEN_VERSION: &str = "s1";

impl PageCursor {
    /// The `nextPageToken` of a page of `uid`'s sessions that stopped here.
    pub fn token(&self, uid: &str) -> String {
        let plain = format!(
            "{TOKEN_VERSION}.{uid}.{}.{}",
            self.active_since, self.session_id
        );
        URL_SAFE_NO_PAD.encode(plain)
    }

    /// The cursor of a `nextPageToken` that this listing made for `uid`; `None` for anything
    /// else (another layout, another user, a byte out of place).
    pub fn from_token(token: &str, uid: &str) -> Option<PageCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let plain = String::from_utf8(bytes).ok()?;
        let mut parts = plain.split('.');
        let (version, owner, since, session_id) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || version != TOKEN_VERSION || owner != uid {
            return None;
        }
        // Plain decimal only, so that every cursor has exactly one token.
        let canonical = !since.is_empty()
            && since.bytes().all(|b| b.is_ascii_digit())
            && (since == "0" || !since.starts_with('0'));
        if !canonical || !is_url_safe(session_id, ID_CHARS) {
            return None;
        }
        let cursor = PageCursor {
            active_since: since.parse().ok()?,
            session_id: session_id.to_owned(),
        };
        // A token whose base64 could be written another way is not one of ours.
        (cursor.token(uid) == token).then_some(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "tKnMuNF1kh9qAnztAqTPHQ";
    const SESSION: &str = "6l4j72wihcVH1wTN26GiTA";

    fn cursor() -> PageCursor {
        PageCursor {
            active_since: 1_795_633_200,
            session_id: SESSION.into(),
        }
    }

    #[test]
    fn a_token_round_trips_for_its_user_only() {
        let token = cursor().token(UID);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(PageCursor::from_token(&token, UID), Some(cursor()));
        assert_eq!(
            PageCursor::from_token(&token, "someone-else-entirely"),
            None
        );
        let zero = PageCursor {
            active_since: 0,
            ..cursor()
        };
        assert_eq!(PageCursor::from_token(&zero.token(UID), UID), Some(zero));
    }

    #[test]
    fn anything_else_is_refused() {
        let encode = |plain: &str| URL_SAFE_NO_PAD.encode(plain);
        let token = cursor().token(UID);
        for bad in [
            String::new(),
            "garbage".to_owned(),
            format!("{token}="),
            format!("{token}A"),
            token[1..].to_owned(),
            format!("{}+", &token[..token.len() - 1]),
            encode(&format!("s2.{UID}.1795633200.{SESSION}")),
            encode(&format!("s1.{UID}.1795633200.{SESSION}.x")),
            encode(&format!("s1.{UID}.1795633200")),
            encode(&format!("s1.{UID}.01795633200.{SESSION}")),
            encode(&format!("s1.{UID}.+1795633200.{SESSION}")),
            encode(&format!("s1.{UID}.-1.{SESSION}")),
            encode(&format!("s1.{UID}..{SESSION}")),
            encode(&format!("s1.{UID}.99999999999999999999.{SESSION}")),
            encode(&format!("s1.{UID}.1795633200.{}", &SESSION[1..])),
            encode(&format!("s1.{UID}.1795633200.{}+", &SESSION[1..])),
            encode(&format!("s1..1795633200.{SESSION}")),
        ] {
            assert_eq!(PageCursor::from_token(&bad, UID), None, "{bad:?}");
        }
        // Bytes that are no UTF-8.
        let raw = URL_SAFE_NO_PAD.encode([0xff, 0xfe, b'.']);
        assert_eq!(PageCursor::from_token(&raw, UID), None);
    }

    #[test]
    fn only_live_sessions_are_listed() {
        let stored = StoredListing {
            session_id: SESSION.into(),
            app_id: "app".into(),
            created_at: 1000,
            last_used_at: 1500,
            user_agent: "ua".into(),
            expiration_time: 2000,
            status: SessionStatus::Active,
        };
        let listed = stored.clone().listed(1999, 5000, SESSION).expect("live");
        assert_eq!(
            listed,
            ListedSession {
                session_id: SESSION.into(),
                app_id: "app".into(),
                created_at: 1000,
                last_used_at: 1500,
                user_agent: "ua".into(),
                current: true,
            }
        );
        assert!(
            !stored
                .clone()
                .listed(1999, 5000, "other")
                .expect("live")
                .current
        );
        assert_eq!(stored.clone().listed(2000, 5000, SESSION), None, "expired");
        assert_eq!(
            stored.clone().listed(1500, 500, SESSION),
            None,
            "past its age"
        );
        let revoked = StoredListing {
            status: SessionStatus::Revoked,
            ..stored
        };
        assert_eq!(revoked.listed(1500, 5000, SESSION), None);
    }
}
