//! The cap on a user's live sessions: a login that would pass it ends the oldest.

use crate::domain::session::SessionSummary;

/// `MAX_SESSIONS_PER_USER` unless set.
pub const DEFAULT_MAX_SESSIONS_PER_USER: u64 = 100;

/// What a login does to fit under the cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The sessions it ends, oldest first.
    pub evict: Vec<String>,
    /// The live sessions left beside the login's own.
    pub live_after: u64,
}

/// Room for one more session beside `sessions` (the user's active ones, in any order) under
/// `cap` (at least 1): the oldest live sessions that must end, by login time and then id.
/// Sessions past their end are not live, so they neither count nor need ending.
pub fn make_room(sessions: &[SessionSummary], cap: u64, now: u64, session_max: u64) -> Room {
    let mut live: Vec<&SessionSummary> = sessions
        .iter()
        .filter(|s| s.is_live(now, session_max))
        .collect();
    live.sort_by(|a, b| (a.created_at, &a.session_id).cmp(&(b.created_at, &b.session_id)));
    let excess = (live.len() as u64 + 1).saturating_sub(cap.max(1));
    let (evicted, kept) = live.split_at(usize::try_from(excess).unwrap_or(live.len()));
    Room {
        evict: evicted.iter().map(|s| s.session_id.clone()).collect(),
        live_after: kept.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const MAX: u64 = 1000;

    fn session(id: &str, created_at: u64) -> SessionSummary {
        SessionSummary {
            session_id: id.into(),
            created_at,
            expiration_time: created_at + MAX,
        }
    }

    #[test]
    fn under_the_cap_nothing_ends() {
        let sessions = [session("a", NOW - 3), session("b", NOW - 2)];
        let room = make_room(&sessions, 3, NOW, MAX);
        assert_eq!(
            room,
            Room {
                evict: vec![],
                live_after: 2
            }
        );
        assert_eq!(make_room(&[], 1, NOW, MAX).live_after, 0);
    }

    #[test]
    fn at_the_cap_the_oldest_end_first() {
        // Out of order, two of the same second: the earlier id goes first.
        let sessions = [
            session("d", NOW - 1),
            session("b", NOW - 5),
            session("c", NOW - 5),
            session("a", NOW - 9),
        ];
        assert_eq!(
            make_room(&sessions, 4, NOW, MAX),
            Room {
                evict: vec!["a".into()],
                live_after: 3
            }
        );
        // A cap lowered since: as many as it takes.
        assert_eq!(
            make_room(&sessions, 2, NOW, MAX),
            Room {
                evict: vec!["a".into(), "b".into(), "c".into()],
                live_after: 1
            }
        );
        assert_eq!(make_room(&sessions, 1, NOW, MAX).live_after, 0);
    }

    #[test]
    fn sessions_past_their_end_neither_count_nor_end() {
        let sessions = [
            session("old", NOW - MAX),
            session("a", NOW - 9),
            session("b", NOW - 1),
        ];
        assert_eq!(
            make_room(&sessions, 3, NOW, MAX),
            Room {
                evict: vec![],
                live_after: 2
            }
        );
        // A shorter maximum age today leaves only "b" live: room without ending anything.
        assert_eq!(make_room(&sessions, 2, NOW, 5).evict, Vec::<String>::new());
    }
}
