//! Login checks 1 to 7, as `docs/openapi.yaml` numbers them: the query string turned into a
//! [`LoginRequest`].

use lambda_http::aws_lambda_events::query_map::QueryMap;

use crate::domain::secret::Secret;
use crate::domain::user_domain::UserDomainName;
use crate::error::ApiError;
use crate::http::params::{MAX_PARAMETER_BYTES, required};

pub const USER_DOMAIN: &str = "userDomain";
pub const OAUTH_TOKEN: &str = "oauthToken";
pub const OAUTH_TOKEN_SECRET: &str = "oauthTokenSecret";
pub const APP_ID: &str = "appId";
pub const SIGNATURE: &str = "signature";
pub const MCC: &str = "mcc";

/// The order in which check 7 looks at the parameters, so its answer is deterministic.
const ALL_PARAMETERS: [&str; 6] = [
    USER_DOMAIN,
    OAUTH_TOKEN,
    OAUTH_TOKEN_SECRET,
    APP_ID,
    SIGNATURE,
    MCC,
];

/// A request that passed checks 1 to 7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub user_domain: UserDomainName,
    pub app_id: String,
    pub oauth_token: Secret,
    pub oauth_token_secret: Secret,
    pub signature: Secret,
    pub mcc: Option<i32>,
}

impl LoginRequest {
    /// Runs checks 1 to 7 in the contract's order; the first that fails answers.
    pub fn from_query(query: &QueryMap) -> Result<Self, ApiError> {
        let first = |name: &str| query.first(name).unwrap_or("");

        let user_domain = required(first(USER_DOMAIN), ApiError::MissingUserDomain)?;
        let user_domain = UserDomainName::parse(user_domain).ok_or(ApiError::UserDomainFormat)?;
        let oauth_token = required(first(OAUTH_TOKEN), ApiError::MissingOauthToken)?;
        let oauth_token_secret =
            required(first(OAUTH_TOKEN_SECRET), ApiError::MissingOauthTokenSecret)?;
        let app_id = required(first(APP_ID), ApiError::MissingAppId)?;
        let signature = required(first(SIGNATURE), ApiError::MissingSignature)?;

        for name in ALL_PARAMETERS {
            let values = query.all(name).unwrap_or_default();
            if values.len() > 1 || values.iter().any(|v| v.len() > MAX_PARAMETER_BYTES) {
                return Err(ApiError::ParameterFormat(name));
            }
        }
        let mcc = match query.first(MCC) {
            None => None,
            Some(raw) => Some(parse_mcc(raw).ok_or(ApiError::ParameterFormat(MCC))?),
        };

        Ok(LoginRequest {
            user_domain,
            app_id: app_id.to_owned(),
            oauth_token: Secret::new(oauth_token),
            oauth_token_secret: Secret::new(oauth_token_secret),
            signature: Secret::new(signature),
            mcc,
        })
    }
}

/// An int32 in plain decimal: an optional sign and digits, nothing else (no blanks, no `0x`).
fn parse_mcc(raw: &str) -> Option<i32> {
    let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str =
        "userDomain=C.DM.5903.1&oauthToken=tok&oauthTokenSecret=sec&appId=app&signature=abcd";

    fn parse(query: &str) -> Result<LoginRequest, ApiError> {
        LoginRequest::from_query(&query.parse::<QueryMap>().expect("query"))
    }

    fn code(query: &str) -> u32 {
        parse(query).expect_err("should fail").code()
    }

    #[test]
    fn parses_a_full_request() {
        let request = parse(&format!("{VALID}&mcc=460&other=ignored")).expect("valid");
        assert_eq!(request.user_domain.as_str(), "C.DM.5903.1");
        assert_eq!(request.app_id, "app");
        assert_eq!(request.oauth_token.expose(), "tok");
        assert_eq!(request.oauth_token_secret.expose(), "sec");
        assert_eq!(request.signature.expose(), "abcd");
        assert_eq!(request.mcc, Some(460));
        assert_eq!(parse(VALID).expect("valid").mcc, None);
    }

    #[test]
    fn each_missing_or_blank_parameter_has_its_code() {
        let cases = [
            ("userDomain", 5023),
            ("oauthToken", 5569),
            ("oauthTokenSecret", 5570),
            ("appId", 5218),
            ("signature", 5550),
        ];
        for (name, expected) in cases {
            let without: Vec<&str> = VALID
                .split('&')
                .filter(|p| !p.starts_with(&format!("{name}=")))
                .collect();
            assert_eq!(code(&without.join("&")), expected, "{name} missing");
            let blank: Vec<String> = VALID
                .split('&')
                .map(|p| {
                    if p.starts_with(&format!("{name}=")) {
                        format!("{name}=%20%09")
                    } else {
                        p.to_owned()
                    }
                })
                .collect();
            assert_eq!(code(&blank.join("&")), expected, "{name} blank");
        }
    }

    #[test]
    fn checks_run_in_the_contract_order() {
        assert_eq!(code(""), 5023);
        assert_eq!(code("userDomain=bad"), 5013);
        assert_eq!(code("userDomain=C.DM.1"), 5569);
        assert_eq!(code("userDomain=C.DM.1&oauthToken=t"), 5570);
        assert_eq!(
            code("userDomain=C.DM.1&oauthToken=t&oauthTokenSecret=s"),
            5218
        );
        assert_eq!(
            code("userDomain=C.DM.1&oauthToken=t&oauthTokenSecret=s&appId=a"),
            5550
        );
        // Format (7) comes after presence (3-6): a bad mcc with a missing appId is 5218.
        assert_eq!(
            code("userDomain=C.DM.1&oauthToken=t&oauthTokenSecret=s&mcc=x"),
            5218
        );
        // The domain pattern (2) judges the first value, before the duplicate check (7).
        assert_eq!(code(&format!("userDomain=bad&{VALID}")), 5013);
        assert_eq!(code(&format!("{VALID}&userDomain=bad")), 4001);
    }

    #[test]
    fn a_repeated_parameter_is_a_format_error_naming_it() {
        for name in ALL_PARAMETERS {
            let query = format!("{VALID}&mcc=1&{name}=again");
            assert_eq!(
                parse(&query),
                Err(ApiError::ParameterFormat(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn parameter_names_are_case_sensitive() {
        assert_eq!(code(&VALID.replace("appId", "appid")), 5218);
        assert!(parse(&format!("{VALID}&APPID=x&Mcc=zz")).is_ok());
    }

    #[test]
    fn a_value_over_1024_bytes_is_a_format_error() {
        let at_limit = "t".repeat(MAX_PARAMETER_BYTES);
        assert!(parse(&VALID.replace("oauthToken=tok", &format!("oauthToken={at_limit}"))).is_ok());
        // 513 two-byte characters: 513 chars but 1026 bytes.
        let over = "é".repeat(513);
        assert_eq!(
            parse(&VALID.replace("appId=app", &format!("appId={over}"))),
            Err(ApiError::ParameterFormat(APP_ID))
        );
        assert_eq!(
            parse(&VALID.replace("signature=abcd", &format!("signature={}a", at_limit))),
            Err(ApiError::ParameterFormat(SIGNATURE))
        );
    }

    #[test]
    fn mcc_must_be_an_int32() {
        for good in ["0", "460", "-1", "%2B7", "2147483647", "-2147483648", "007"] {
            assert!(parse(&format!("{VALID}&mcc={good}")).is_ok(), "{good}");
        }
        for bad in [
            "",
            "x",
            "4.6",
            "2147483648",
            "-2147483649",
            "%20460",
            "460%20",
            "0x1F",
            "1e3",
            "-",
            "%2B",
            "+7",
        ] {
            assert_eq!(
                parse(&format!("{VALID}&mcc={bad}")),
                Err(ApiError::ParameterFormat(MCC)),
                "{bad:?}"
            );
        }
    }
}
