//! The one error type of a login, and the single place that maps it to the contract's codes.

use lambda_http::http::StatusCode;

/// Every way a login can fail. `&'static str` details are ours (never an AWS or Twitter text)
/// and only go to the log line, never to the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
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
    StoreUnavailable(&'static str),
    Internal(&'static str),
}

impl LoginError {
    pub fn code(&self) -> u32 {
        use LoginError::*;
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
            StoreUnavailable(_) => 5001,
            Internal(_) => 5000,
        }
    }

    pub fn msg(&self) -> &'static str {
        use LoginError::*;
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
            StoreUnavailable(_) => "Service temporarily unavailable",
            Internal(_) => "Internal error",
        }
    }

    /// What the answer's `extMsg` says: the parameter's name for a format error, else nothing.
    pub fn ext_msg(&self) -> &'static str {
        match self {
            LoginError::ParameterFormat(name) => name,
            _ => "",
        }
    }

    /// Request faults answer 200 (clients read `code`); server-side faults answer 5xx so that
    /// API Gateway metrics, alarms and client retries see them.
    pub fn http_status(&self) -> StatusCode {
        match self {
            LoginError::StoreUnavailable(_) | LoginError::TwitterUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            LoginError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::OK,
        }
    }

    /// Our own words on why, for the log line only.
    pub fn detail(&self) -> &'static str {
        match self {
            LoginError::TwitterUnavailable(d)
            | LoginError::TwitterRejected(d)
            | LoginError::StoreUnavailable(d)
            | LoginError::Internal(d) => d,
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(LoginError::StoreUnavailable("x").http_status(), 503);
        assert_eq!(LoginError::TwitterUnavailable("x").http_status(), 503);
        assert_eq!(LoginError::Internal("x").http_status(), 500);
        assert_eq!(LoginError::TwitterRejected("x").http_status(), 200);
        assert_eq!(LoginError::SignatureMismatch.http_status(), 200);
        assert_eq!(LoginError::ParameterFormat("mcc").http_status(), 200);
    }

    #[test]
    fn only_format_errors_name_a_parameter() {
        assert_eq!(LoginError::ParameterFormat("mcc").ext_msg(), "mcc");
        assert_eq!(LoginError::MissingAppId.ext_msg(), "");
        assert_eq!(LoginError::Internal("token collision").ext_msg(), "");
    }
}
