//! The one error type of every endpoint, and the single place that names its codes and
//! messages; `http::envelope` maps it to the answer.

/// Why a presented token is not live: the `extMsg` of code 5032.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// Never issued, malformed, or of the other kind.
    Invalid,
    /// Past its own expiry or its session's maximum age.
    Expired,
    /// Its session was ended (logout, reuse, an operator), or a newer pair replaced it.
    Revoked,
    /// A rotated refresh token presented after the grace window: the session is now revoked.
    Reused,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Invalid => "invalid",
            Rejection::Expired => "expired",
            Rejection::Revoked => "revoked",
            Rejection::Reused => "reused",
        }
    }
}

/// A stored item that is there but malformed: the operator's fault, answered 5000. Names the
/// item and the attribute for the log line, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misprovision {
    /// Which table's item, and its key: `user domain C.DM.5903.1`, `MCC route 262`.
    pub item: String,
    /// The attribute's path in the item: `enabled`, `apps.my-app.consumerKey`.
    pub attribute: String,
}

/// An attribute of a stored item as read: its value, or what was wrong with it.
pub type Field<T> = Result<T, Misprovision>;

/// Every way a request can fail. `&'static str` details are ours (never an AWS or Twitter
/// text) and only go to the log line, never to the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    MissingUserDomain,
    UserDomainFormat,
    MissingOauthToken,
    MissingOauthTokenSecret,
    MissingAppId,
    MissingSignature,
    /// Names the offending parameter.
    ParameterFormat(&'static str),
    UnknownUserDomain,
    UserDomainDisabled,
    SignatureMismatch,
    AppNotConfigured,
    MccNotMapped,
    MccOtherDataCenter,
    TwitterUnavailable(&'static str),
    TwitterRejected(&'static str),
    TwitterUnparsable,
    MissingToken,
    TokenRejected(Rejection),
    UserNotFound,
    StoreUnavailable(&'static str),
    Misprovisioned(Misprovision),
    Internal(&'static str),
}

impl ApiError {
    pub fn code(&self) -> u32 {
        use ApiError::*;
        match self {
            MissingUserDomain => 5023,
            UserDomainFormat => 5013,
            MissingOauthToken => 5569,
            MissingOauthTokenSecret => 5570,
            MissingAppId => 5218,
            MissingSignature => 5550,
            ParameterFormat(_) => 4001,
            UnknownUserDomain => 5015,
            UserDomainDisabled => 5104,
            SignatureMismatch => 5420,
            AppNotConfigured => 5574,
            MccNotMapped => 6085,
            MccOtherDataCenter => 6084,
            TwitterUnavailable(_) => 5367,
            TwitterRejected(_) => 5368,
            TwitterUnparsable => 5369,
            MissingToken => 5106,
            TokenRejected(_) => 5032,
            UserNotFound => 5033,
            StoreUnavailable(_) => 5001,
            Misprovisioned(_) | Internal(_) => 5000,
        }
    }

    pub fn msg(&self) -> &'static str {
        use ApiError::*;
        match self {
            MissingUserDomain => "Please enter user domain",
            UserDomainFormat => "User domain format incorrect",
            MissingOauthToken => "Please enter oauthToken",
            MissingOauthTokenSecret => "Please enter oauthTokenSecret",
            MissingAppId => "Please enter appId",
            MissingSignature => "Please enter signature",
            ParameterFormat(_) => "Parameter format incorrect",
            UnknownUserDomain => "User domain does not exist",
            UserDomainDisabled => "User domain has been disabled",
            SignatureMismatch => "Signature verification failed",
            AppNotConfigured => "appId is not configured for this user domain",
            MccNotMapped => "Failed to query data center for MCC",
            MccOtherDataCenter => "MCC does not belong to the current data center",
            TwitterUnavailable(_) => "Request to Twitter failed",
            TwitterRejected(_) => "Failed to get the Twitter user",
            TwitterUnparsable => "Failed to parse the Twitter user",
            MissingToken => "Please enter token",
            TokenRejected(_) => "Token verification failed",
            UserNotFound => "User does not exist",
            StoreUnavailable(_) => "Service temporarily unavailable",
            Misprovisioned(_) | Internal(_) => "Internal error",
        }
    }

    /// What the answer's `extMsg` says: the parameter of a format error, the reason a token
    /// was refused, else nothing.
    pub fn ext_msg(&self) -> &'static str {
        match self {
            ApiError::ParameterFormat(name) => name,
            ApiError::TokenRejected(rejection) => rejection.as_str(),
            _ => "",
        }
    }

    /// Our own words on why, for the log line only.
    pub fn detail(&self) -> &'static str {
        match self {
            ApiError::TwitterUnavailable(d)
            | ApiError::TwitterRejected(d)
            | ApiError::StoreUnavailable(d)
            | ApiError::Internal(d) => d,
            ApiError::Misprovisioned(_) => "malformed item",
            ApiError::TokenRejected(rejection) => rejection.as_str(),
            _ => "",
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        ApiError::TokenRejected(rejection)
    }
}

impl From<Misprovision> for ApiError {
    fn from(fault: Misprovision) -> Self {
        ApiError::Misprovisioned(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext_msg_names_a_parameter_or_a_rejection() {
        assert_eq!(ApiError::ParameterFormat("mcc").ext_msg(), "mcc");
        assert_eq!(ApiError::MissingAppId.ext_msg(), "");
        assert_eq!(ApiError::Internal("token collision").ext_msg(), "");
        for (rejection, text) in [
            (Rejection::Invalid, "invalid"),
            (Rejection::Expired, "expired"),
            (Rejection::Revoked, "revoked"),
            (Rejection::Reused, "reused"),
        ] {
            let error = ApiError::from(rejection);
            assert_eq!((error.code(), error.ext_msg()), (5032, text));
            assert_eq!(error.msg(), "Token verification failed");
        }
    }

    #[test]
    fn lifecycle_codes() {
        assert_eq!(
            (ApiError::MissingToken.code(), ApiError::MissingToken.msg()),
            (5106, "Please enter token")
        );
        assert_eq!(
            (ApiError::UserNotFound.code(), ApiError::UserNotFound.msg()),
            (5033, "User does not exist")
        );
    }
}
