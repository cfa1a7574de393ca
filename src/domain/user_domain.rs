//! User domains: their names, their records, and whether one may be used.

use std::collections::HashMap;
use std::fmt;

use crate::domain::secret::Secret;
use crate::error::{ApiError, Field};

/// The platform value that marks an app as a Twitter app.
pub const TWITTER_PLATFORM: &str = "twitter";

/// A user domain's name, `C.DM.5903.1` (region letter, kind, number, optional suffix):
/// `^[A-Z]\.[A-Z]{2}\.[0-9]{1,20}(\.[0-9]{1,4})?$`, with `$` as the true end (no trailing
/// newline). Parsed once at the edge; past it, a name is known to be well formed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserDomainName(String);

impl UserDomainName {
    /// `None` when `value` does not match the pattern.
    pub fn parse(value: &str) -> Option<UserDomainName> {
        let upper = |part: &str, len: usize| {
            part.len() == len && part.bytes().all(|b| b.is_ascii_uppercase())
        };
        let digits = |part: &str, max: usize| {
            (1..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
        };
        let mut parts = value.split('.');
        let (Some(region), Some(kind), Some(number)) = (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let suffix_ok = match (parts.next(), parts.next()) {
            (None, _) => true,
            (Some(suffix), None) => digits(suffix, 4),
            (Some(_), Some(_)) => false,
        };
        (upper(region, 1) && upper(kind, 2) && digits(number, 20) && suffix_ok)
            .then(|| UserDomainName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserDomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What every check of a user domain needs: whether it is enabled. A missing `enabled` means
/// disabled; one of another type is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainState {
    pub enabled: Field<bool>,
}

impl DomainState {
    /// Whether a user domain may be used: it exists (`domain` is what was read of it) and is
    /// enabled. Login, refresh and the authorizer all decide it here.
    pub fn usable(domain: Option<&DomainState>) -> Result<(), ApiError> {
        let domain = domain.ok_or(ApiError::UnknownUserDomain)?;
        if domain.enabled.clone()? {
            Ok(())
        } else {
            Err(ApiError::UserDomainDisabled)
        }
    }
}

/// A user domain's whole record, as the login reads it. Each attribute is judged only when a
/// check needs it, so a malformed one answers 5000 at that check's place in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDomain {
    pub state: DomainState,
    pub secret: Field<Secret>,
    pub apps: Field<HashMap<String, Field<App>>>,
}

/// One third-party app of a user domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub platform: String,
    pub consumer_key: String,
    pub consumer_secret: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_user_domain(value: &str) -> bool {
        UserDomainName::parse(value).is_some()
    }

    #[test]
    fn accepts_the_contract_examples() {
        for domain in ["C.DM.5903.1", "E.DM.1209906967672817.3", "U.SP.8589934603"] {
            assert!(is_user_domain(domain), "{domain}");
        }
        assert!(is_user_domain("C.DM.12345678901234567890.1234"));
    }

    #[test]
    fn rejects_near_misses_of_the_pattern() {
        for domain in [
            "c.DM.5903",
            "C.Dm.5903",
            "C.DMX.5903",
            "C.DM.",
            "C.DM.5903.",
            "C.DM.5903.12345",
            "C.DM.123456789012345678901",
            "C.DM.5903.1.2",
            "C.DM.5903\n",
            " C.DM.5903",
            "CC.DM.1",
            "C.DM.59a3",
            "C.DM",
            "",
            "Ｃ.DM.1",
            "C.DM.١٢",
        ] {
            assert!(!is_user_domain(domain), "{domain:?}");
        }
    }

    #[test]
    fn a_domain_is_usable_when_it_exists_and_is_enabled() {
        let state = |enabled: Field<bool>| DomainState { enabled };
        assert_eq!(DomainState::usable(Some(&state(Ok(true)))), Ok(()));
        assert_eq!(
            DomainState::usable(Some(&state(Ok(false)))),
            Err(ApiError::UserDomainDisabled)
        );
        assert_eq!(DomainState::usable(None), Err(ApiError::UnknownUserDomain));
        let fault = crate::error::Misprovision {
            item: "user domain C.DM.1".into(),
            attribute: "enabled".into(),
        };
        assert_eq!(
            DomainState::usable(Some(&state(Err(fault.clone())))),
            Err(ApiError::Misprovisioned(fault))
        );
    }
}
