//! `GET /v2/enduser/enduserapi/sessions`, behind the authorizer: the caller's live sessions,
//! newest first, in pages of up to 100, one DynamoDB request per page. The caller is the one
//! the authorizer named, never a parameter.

use std::sync::Arc;

use lambda_http::{Request, RequestExt};
use serde::Serialize;

use crate::domain::clock::Clock;
use crate::domain::listing::{ListedSession, PageCursor};
use crate::error::ApiError;
use crate::http::authorized::Authorized;
use crate::http::params::MAX_PARAMETER_BYTES;
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::ports::SessionPager;

/// The query parameter that carries a listing on to its next page.
pub const NEXT_PAGE_TOKEN: &str = "nextPageToken";

/// What a listing answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    pub sessions: Vec<ListedSession>,
    /// When more remain: what to send as `nextPageToken` for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

pub struct ListSessions<S> {
    store: S,
    clock: Arc<dyn Clock>,
    /// No session outlives this from its login.
    session_max: u64,
}

impl<S: SessionPager + Sync> ListSessions<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>, session_max: u64) -> Self {
        ListSessions {
            store,
            clock,
            session_max,
        }
    }

    /// The page of `caller`'s sessions after `page_token` (the first without one). A token
    /// this listing did not make for this user is 4001.
    pub async fn list(
        &self,
        caller: Authorized<'_>,
        page_token: Option<&str>,
    ) -> Result<SessionList, ApiError> {
        let refused = ApiError::ParameterFormat(NEXT_PAGE_TOKEN);
        let after = match page_token {
            None => None,
            Some(token) if token.len() > MAX_PARAMETER_BYTES => return Err(refused),
            Some(token) => Some(PageCursor::from_token(token, caller.uid).ok_or(refused)?),
        };
        let page = self.store.session_page(caller.uid, after.as_ref()).await?;
        let now = self.clock.now()?;
        Ok(SessionList {
            sessions: page
                .sessions
                .into_iter()
                .filter_map(|stored| stored.listed(now, self.session_max, caller.session_id))
                .collect(),
            next_page_token: page.next.map(|cursor| cursor.token(caller.uid)),
        })
    }
}

impl<S: SessionPager + Sync> Endpoint for ListSessions<S> {
    const OPERATION: &'static str = "listSessions";
    type Data = SessionList;

    async fn answer(&self, request: &Request) -> Outcome<SessionList> {
        let caller = match Authorized::of(request) {
            Ok(caller) => caller,
            Err(error) => return Outcome::refused(error, Caller::default()),
        };
        let tokens = request
            .query_string_parameters_ref()
            .and_then(|query| query.all(NEXT_PAGE_TOKEN))
            .unwrap_or_default();
        let result = match tokens[..] {
            [] => self.list(caller, None).await,
            [token] => self.list(caller, Some(token)).await,
            _ => Err(ApiError::ParameterFormat(NEXT_PAGE_TOKEN)),
        };
        Outcome {
            result,
            caller: caller.caller(),
        }
    }
}
