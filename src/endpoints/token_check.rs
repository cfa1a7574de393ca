//! The check refresh, logout and the authorizer share: a presented token's state, read in one
//! request, judged by the session rules at the clock's now.

use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::session::{LiveToken, TokenRules, TokenState};
use crate::domain::token::PresentedToken;
use crate::error::{ApiError, Rejection};
use crate::ports::{DomainRead, TokenReader};

/// How a function judges the tokens presented to it.
#[derive(Clone)]
pub struct TokenCheck {
    pub rules: TokenRules,
    clock: Arc<dyn Clock>,
}

/// What was read of a presented token, and when: enough to judge it, and to act on it.
pub struct Checked<'p> {
    pub state: TokenState,
    pub now: u64,
    presented: &'p PresentedToken,
    rules: TokenRules,
}

impl Checked<'_> {
    /// The verdict on the token; see [`TokenState::live`].
    pub fn live(&self) -> Result<LiveToken<'_>, Rejection> {
        self.state.live(self.presented, &self.rules, self.now)
    }
}

impl TokenCheck {
    pub fn new(rules: TokenRules, clock: Arc<dyn Clock>) -> TokenCheck {
        TokenCheck { rules, clock }
    }

    /// The clock's now, as tokens are judged.
    pub fn now(&self) -> Result<u64, ApiError> {
        self.clock.now()
    }

    /// Reads the token's state from `store` in one request (with its user domain's, when
    /// asked) and notes the time it is judged at.
    pub async fn read<'p, S: TokenReader + Sync>(
        &self,
        store: &S,
        presented: &'p PresentedToken,
        domain: DomainRead,
    ) -> Result<Checked<'p>, ApiError> {
        let state = store.token_state(presented, domain).await?;
        Ok(Checked {
            state,
            now: self.clock.now()?,
            presented,
            rules: self.rules,
        })
    }
}
