//! Sessions and their tokens: what is stored of them, and the one set of rules that decides
//! whether a presented token is live. Refresh, logout and the authorizer all ask here.

use crate::domain::token::{PresentedToken, TokenRoute};
use crate::domain::user_domain::{DomainState, UserDomainName};
use crate::error::Rejection;

/// The two kinds of token a session hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(value: &str) -> Option<TokenKind> {
        match value {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Active,
    Revoked,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Revoked => "revoked",
        }
    }

    /// Anything but `active` counts as revoked: a session is live only when it says so.
    pub fn parse(value: &str) -> SessionStatus {
        match value {
            "active" => SessionStatus::Active,
            _ => SessionStatus::Revoked,
        }
    }
}

/// Why a session was revoked, as its `revokedReason` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedReason {
    Logout,
    Reused,
    /// An operator, through the admin CLI.
    Operator,
    /// Ended by a login that would have passed the user's cap of live sessions: the oldest go.
    Evicted,
}

impl RevokedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedReason::Logout => "logout",
            RevokedReason::Reused => "reused",
            RevokedReason::Operator => "operator",
            RevokedReason::Evicted => "evicted",
        }
    }
}

/// How long the tokens of a new pair live, in seconds, and the session they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_token_ttl: u64,
    pub refresh_token_ttl: u64,
    /// No session outlives this, from its login, however often it is refreshed.
    pub session_max: u64,
}

/// The rules a presented token is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRules {
    pub kind: TokenKind,
    /// No session outlives this, from its login.
    pub session_max: u64,
    /// How long a rotated refresh token may still be presented again; refresh tokens only.
    pub refresh_reuse_grace: u64,
}

impl TokenRules {
    /// An access token's: it has no grace window.
    pub fn access(session_max: u64) -> TokenRules {
        TokenRules {
            kind: TokenKind::Access,
            session_max,
            refresh_reuse_grace: 0,
        }
    }

    pub fn refresh(session_max: u64, refresh_reuse_grace: u64) -> TokenRules {
        TokenRules {
            kind: TokenKind::Refresh,
            session_max,
            refresh_reuse_grace,
        }
    }
}

/// Who a token was issued to: what every token item of a session carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub uid: String,
    pub session_id: String,
    pub user_domain: UserDomainName,
    pub app_id: String,
    pub twitter_user_id: String,
    pub twitter_username: Option<String>,
    pub mcc: Option<i32>,
}

impl From<&TokenOwner> for TokenRoute {
    fn from(owner: &TokenOwner) -> Self {
        TokenRoute {
            user_domain: owner.user_domain.clone(),
            uid: owner.uid.clone(),
            session_id: owner.session_id.clone(),
        }
    }
}

/// A token item as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub kind: TokenKind,
    pub owner: TokenOwner,
    pub expiration_time: u64,
}

/// A session item as read back. The session names its live pair by their hashes: a token is
/// live only while its session says it is the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub uid: String,
    pub session_id: String,
    pub app_id: String,
    pub user_domain: String,
    pub created_at: u64,
    pub status: SessionStatus,
    pub access_token_hash: String,
    pub refresh_token_hash: String,
    /// The refresh token the last rotation replaced, and when: the grace window's subject.
    pub previous_refresh_token_hash: Option<String>,
    pub rotated_at: Option<u64>,
    /// The `kid` that signed the current access token.
    pub access_key_id: Option<String>,
    pub expiration_time: u64,
}

impl SessionRecord {
    /// When the session ends: its stored end or its maximum age under today's settings,
    /// whichever comes first.
    pub fn end(&self, session_max: u64) -> u64 {
        session_end(self.created_at, self.expiration_time, session_max)
    }

    fn current_hash(&self, kind: TokenKind) -> &str {
        match kind {
            TokenKind::Access => &self.access_token_hash,
            TokenKind::Refresh => &self.refresh_token_hash,
        }
    }
}

/// When a session created at `created_at`, stored to end at `expiration_time`, ends: that, or
/// its maximum age under today's settings, whichever comes first.
pub fn session_end(created_at: u64, expiration_time: u64, session_max: u64) -> u64 {
    expiration_time.min(created_at.saturating_add(session_max))
}

/// A user's active session as a listing of their sessions gives it: enough to tell whether
/// it is live, and which is oldest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub session_id: String,
    pub created_at: u64,
    pub expiration_time: u64,
}

impl SessionSummary {
    /// Whether it is still live at `now`: an active session before its end.
    pub fn is_live(&self, now: u64, session_max: u64) -> bool {
        now < session_end(self.created_at, self.expiration_time, session_max)
    }
}

/// The most a session keeps of its login's `User-Agent`, in bytes.
pub const MAX_USER_AGENT_BYTES: usize = 256;

/// A login's `User-Agent` as its session keeps it: every Unicode control character (C0, DEL,
/// C1) removed, then cut to at most [`MAX_USER_AGENT_BYTES`] on a character boundary; empty
/// when there was none. What is left can go into any answer or log line as it is.
pub fn clean_user_agent(raw: Option<&str>) -> String {
    let mut cleaned = String::new();
    for c in raw.unwrap_or_default().chars().filter(|c| !c.is_control()) {
        if cleaned.len() + c.len_utf8() > MAX_USER_AGENT_BYTES {
            break;
        }
        cleaned.push(c);
    }
    cleaned
}

/// A hash stored for a token and the moment it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub hash: String,
    pub expiration_time: u64,
}

/// The expirations of a pair issued `now` in a session that ends at `session_end`.
pub fn pair_expirations(now: u64, session_end: u64, lifetimes: &Lifetimes) -> (u64, u64) {
    (
        now.saturating_add(lifetimes.access_token_ttl)
            .min(session_end),
        now.saturating_add(lifetimes.refresh_token_ttl)
            .min(session_end),
    )
}

/// Where a live token stands in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The session's current token.
    Current,
    /// A refresh token rotated away less than the grace window ago: it may rotate once more.
    WithinGrace,
}

/// A presented token found live, with what was read of it.
#[derive(Debug, Clone, Copy)]
pub struct LiveToken<'a> {
    pub token: &'a TokenRecord,
    pub session: &'a SessionRecord,
    pub freshness: Freshness,
}

/// What one read returns for a presented token: its item, its session's and, when asked
/// for, its user domain's state. `None` means no such item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    pub token: Option<TokenRecord>,
    pub session: Option<SessionRecord>,
    pub domain: Option<DomainState>,
}

impl TokenState {
    /// Decides whether `presented` is live at `now` under `rules`, given what was read of it.
    /// The order matters: unknown, then expired, then revoked, then superseded. `Reused` comes
    /// back only for a rotated refresh token past the grace window; the caller revokes the
    /// session.
    pub fn live(
        &self,
        presented: &PresentedToken,
        rules: &TokenRules,
        now: u64,
    ) -> Result<LiveToken<'_>, Rejection> {
        let route = &presented.route;
        let token = self
            .token
            .as_ref()
            .filter(|t| {
                t.kind == rules.kind
                    && t.owner.uid == route.uid
                    && t.owner.session_id == route.session_id
                    && t.owner.user_domain == route.user_domain
            })
            .ok_or(Rejection::Invalid)?;
        if now >= token.expiration_time {
            return Err(Rejection::Expired);
        }
        // An issued token whose session is gone was ended by an operator.
        let session = self.session.as_ref().ok_or(Rejection::Revoked)?;
        if session.status != SessionStatus::Active {
            return Err(Rejection::Revoked);
        }
        if now >= session.end(rules.session_max) {
            return Err(Rejection::Expired);
        }
        let live = |freshness| LiveToken {
            token,
            session,
            freshness,
        };
        if session.current_hash(rules.kind) == presented.hash {
            return Ok(live(Freshness::Current));
        }
        match rules.kind {
            // A newer pair replaced it.
            TokenKind::Access => Err(Rejection::Revoked),
            TokenKind::Refresh => {
                let in_grace = session.previous_refresh_token_hash.as_deref()
                    == Some(presented.hash.as_str())
                    && session
                        .rotated_at
                        .is_some_and(|at| now < at.saturating_add(rules.refresh_reuse_grace));
                if in_grace {
                    Ok(live(Freshness::WithinGrace))
                } else {
                    Err(Rejection::Reused)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::token::{MintedToken, random_id};

    const NOW: u64 = 1_800_000_000;
    const LIFETIMES: Lifetimes = Lifetimes {
        access_token_ttl: 7200,
        refresh_token_ttl: 2_592_000,
        session_max: 7_776_000,
    };
    const GRACE: u64 = 30;

    fn rules(kind: TokenKind, session_max: u64) -> TokenRules {
        match kind {
            TokenKind::Access => TokenRules::access(session_max),
            TokenKind::Refresh => TokenRules::refresh(session_max, GRACE),
        }
    }

    fn state(token: Option<&TokenRecord>, session: Option<&SessionRecord>) -> TokenState {
        TokenState {
            token: token.cloned(),
            session: session.cloned(),
            domain: None,
        }
    }

    struct Fixture {
        access: PresentedToken,
        refresh: PresentedToken,
        old_refresh: PresentedToken,
        token: TokenRecord,
        refresh_record: TokenRecord,
        session: SessionRecord,
    }

    fn presented(route: &TokenRoute) -> PresentedToken {
        let minted = MintedToken::mint(route).expect("mint");
        PresentedToken::parse(minted.token.expose()).expect("parse")
    }

    fn fixture() -> Fixture {
        let route = TokenRoute {
            user_domain: UserDomainName::parse("C.DM.1").expect("domain"),
            uid: "tKnMuNF1kh9qAnztAqTPHQ".into(),
            session_id: random_id().expect("id"),
        };
        let (access, refresh, old_refresh) =
            (presented(&route), presented(&route), presented(&route));
        let owner = TokenOwner {
            uid: route.uid.clone(),
            session_id: route.session_id.clone(),
            user_domain: route.user_domain.clone(),
            app_id: "app".into(),
            twitter_user_id: "42".into(),
            twitter_username: None,
            mcc: None,
        };
        let token = TokenRecord {
            kind: TokenKind::Access,
            owner: owner.clone(),
            expiration_time: NOW + 100,
        };
        let refresh_record = TokenRecord {
            kind: TokenKind::Refresh,
            owner,
            expiration_time: NOW + 1000,
        };
        let session = SessionRecord {
            uid: route.uid.clone(),
            session_id: route.session_id.clone(),
            app_id: "app".into(),
            user_domain: route.user_domain.to_string(),
            created_at: NOW - 10,
            status: SessionStatus::Active,
            access_token_hash: access.hash.clone(),
            refresh_token_hash: refresh.hash.clone(),
            previous_refresh_token_hash: Some(old_refresh.hash.clone()),
            rotated_at: Some(NOW - 5),
            access_key_id: None,
            expiration_time: NOW - 10 + LIFETIMES.session_max,
        };
        Fixture {
            access,
            refresh,
            old_refresh,
            token,
            refresh_record,
            session,
        }
    }

    fn verdict(
        kind: TokenKind,
        presented: &PresentedToken,
        token: Option<&TokenRecord>,
        session: Option<&SessionRecord>,
        now: u64,
    ) -> Result<Freshness, Rejection> {
        state(token, session)
            .live(presented, &rules(kind, LIFETIMES.session_max), now)
            .map(|live| live.freshness)
    }

    #[test]
    fn the_current_tokens_are_live() {
        let f = fixture();
        let access = verdict(
            TokenKind::Access,
            &f.access,
            Some(&f.token),
            Some(&f.session),
            NOW,
        );
        assert_eq!(access, Ok(Freshness::Current));
        let refresh = verdict(
            TokenKind::Refresh,
            &f.refresh,
            Some(&f.refresh_record),
            Some(&f.session),
            NOW,
        );
        assert_eq!(refresh, Ok(Freshness::Current));
    }

    #[test]
    fn unknown_or_mismatched_tokens_are_invalid() {
        let f = fixture();
        let s = Some(&f.session);
        assert_eq!(
            verdict(TokenKind::Access, &f.access, None, s, NOW),
            Err(Rejection::Invalid)
        );
        // An access token presented as a refresh token, and the other way round.
        assert_eq!(
            verdict(TokenKind::Refresh, &f.access, Some(&f.token), s, NOW),
            Err(Rejection::Invalid)
        );
        assert_eq!(
            verdict(
                TokenKind::Access,
                &f.refresh,
                Some(&f.refresh_record),
                s,
                NOW
            ),
            Err(Rejection::Invalid)
        );
        // An item of another session under this route.
        let mut other = f.token.clone();
        other.owner.session_id = "x".repeat(22);
        assert_eq!(
            verdict(TokenKind::Access, &f.access, Some(&other), s, NOW),
            Err(Rejection::Invalid)
        );
    }

    #[test]
    fn expiry_is_checked_in_code() {
        let f = fixture();
        let s = Some(&f.session);
        let t = Some(&f.token);
        assert!(verdict(TokenKind::Access, &f.access, t, s, NOW + 99).is_ok());
        assert_eq!(
            verdict(TokenKind::Access, &f.access, t, s, NOW + 100),
            Err(Rejection::Expired)
        );
        // The session's maximum age ends every token, whatever the token's own expiry says.
        let mut long_lived = f.refresh_record.clone();
        long_lived.expiration_time = u64::MAX;
        let end = f.session.created_at + LIFETIMES.session_max;
        assert!(
            verdict(
                TokenKind::Refresh,
                &f.refresh,
                Some(&long_lived),
                s,
                end - 1
            )
            .is_ok()
        );
        assert_eq!(
            verdict(TokenKind::Refresh, &f.refresh, Some(&long_lived), s, end),
            Err(Rejection::Expired)
        );
        // A shorter maximum age set today ends older sessions too.
        let shorter = rules(TokenKind::Access, 5);
        let read = state(t, s);
        let result = read.live(&f.access, &shorter, NOW);
        assert_eq!(result.map(|l| l.freshness), Err(Rejection::Expired));
    }

    #[test]
    fn a_revoked_or_missing_session_revokes_its_tokens() {
        let f = fixture();
        let mut revoked = f.session.clone();
        revoked.status = SessionStatus::Revoked;
        assert_eq!(
            verdict(
                TokenKind::Access,
                &f.access,
                Some(&f.token),
                Some(&revoked),
                NOW
            ),
            Err(Rejection::Revoked)
        );
        assert_eq!(
            verdict(TokenKind::Access, &f.access, Some(&f.token), None, NOW),
            Err(Rejection::Revoked)
        );
        // An expired token says expired even when its session is gone.
        assert_eq!(
            verdict(
                TokenKind::Access,
                &f.access,
                Some(&f.token),
                None,
                NOW + 100
            ),
            Err(Rejection::Expired)
        );
    }

    #[test]
    fn a_superseded_access_token_is_revoked() {
        let f = fixture();
        let mut rotated = f.session.clone();
        rotated.access_token_hash = "0".repeat(64);
        assert_eq!(
            verdict(
                TokenKind::Access,
                &f.access,
                Some(&f.token),
                Some(&rotated),
                NOW
            ),
            Err(Rejection::Revoked)
        );
    }

    #[test]
    fn a_rotated_refresh_token_has_a_grace_window_then_counts_as_reused() {
        let f = fixture();
        let mut record = f.refresh_record.clone();
        record.expiration_time = NOW + 1000;
        let s = Some(&f.session);
        let rotated_at = NOW - 5;
        assert_eq!(
            verdict(TokenKind::Refresh, &f.old_refresh, Some(&record), s, NOW),
            Ok(Freshness::WithinGrace)
        );
        assert_eq!(
            verdict(
                TokenKind::Refresh,
                &f.old_refresh,
                Some(&record),
                s,
                rotated_at + 29
            ),
            Ok(Freshness::WithinGrace)
        );
        assert_eq!(
            verdict(
                TokenKind::Refresh,
                &f.old_refresh,
                Some(&record),
                s,
                rotated_at + 30
            ),
            Err(Rejection::Reused)
        );
        // A refresh token two rotations old is reuse at once.
        let mut older = f.session.clone();
        older.previous_refresh_token_hash = Some("1".repeat(64));
        assert_eq!(
            verdict(
                TokenKind::Refresh,
                &f.old_refresh,
                Some(&record),
                Some(&older),
                NOW
            ),
            Err(Rejection::Reused)
        );
    }

    #[test]
    fn pair_expirations_are_capped_by_the_session_end() {
        assert_eq!(
            pair_expirations(NOW, NOW + LIFETIMES.session_max, &LIFETIMES),
            (NOW + 7200, NOW + 2_592_000)
        );
        assert_eq!(
            pair_expirations(NOW, NOW + 3600, &LIFETIMES),
            (NOW + 3600, NOW + 3600)
        );
    }

    #[test]
    fn a_user_agent_loses_its_control_characters_then_is_cut_on_a_character_boundary() {
        assert_eq!(clean_user_agent(None), "");
        assert_eq!(clean_user_agent(Some("")), "");
        assert_eq!(
            clean_user_agent(Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)")),
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"
        );
        // C0 (tab, newline, NUL, ESC), DEL and C1 (NEL, CSI) go; other characters stay.
        assert_eq!(
            clean_user_agent(Some(
                "a\tb\r\nc\0d\u{1b}[31me\u{7f}f\u{85}g\u{9b}h\u{a0}ü€😀"
            )),
            "abcd[31mefgh\u{a0}ü€😀"
        );
        assert_eq!(clean_user_agent(Some("\n\t\u{9f}")), "");
        // Cut after the cleaning: controls do not count against the limit.
        let long = format!("{}{}", "\u{1}".repeat(300), "x".repeat(300));
        assert_eq!(clean_user_agent(Some(&long)), "x".repeat(256));
        // A character that would straddle the limit is left out whole.
        let straddling = format!("{}€", "x".repeat(254));
        assert_eq!(clean_user_agent(Some(&straddling)), "x".repeat(254));
        let exact = format!("{}€", "x".repeat(253));
        assert_eq!(clean_user_agent(Some(&exact)), exact);
        let ten_kb = "é".repeat(5 * 1024);
        let cut = clean_user_agent(Some(&ten_kb));
        assert_eq!((cut.len(), cut.chars().count()), (256, 128));
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_summary_is_live_until_its_end() {
        let summary = SessionSummary {
            session_id: "s".into(),
            created_at: NOW,
            expiration_time: NOW + 100,
        };
        assert!(summary.is_live(NOW + 99, 1000));
        assert!(!summary.is_live(NOW + 100, 1000));
        assert!(
            !summary.is_live(NOW + 50, 50),
            "a shorter maximum age today"
        );
    }
}
