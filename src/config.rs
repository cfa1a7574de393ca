//! Configuration from the environment, read once at start-up.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use crate::login::Policy;

pub const DEFAULT_ACCESS_TOKEN_TTL_SECONDS: u64 = 7200;
pub const DEFAULT_REFRESH_TOKEN_TTL_SECONDS: u64 = 2_592_000;
pub const DEFAULT_TWITTER_API_BASE: &str = "https://api.twitter.com";
pub const DEFAULT_TWITTER_TIMEOUT_MS: u64 = 3000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub user_domain: String,
    pub mcc: String,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub tables: TableNames,
    pub policy: Policy,
    pub twitter_api_base: Url,
    pub twitter_timeout: Duration,
}

/// Why start-up was refused; names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required =
            |name: &str| value(name).ok_or_else(|| ConfigError(format!("{name} is required")));
        let positive = |name: &str, default: u64| match value(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError(format!("{name} must be a positive whole number"))),
        };

        let tables = TableNames {
            user_domain: required("USER_DOMAIN_TABLE")?,
            mcc: required("MCC_TABLE")?,
            token: required("TOKEN_TABLE")?,
        };
        let data_center = required("DATA_CENTER")?;
        let access_token_ttl_seconds =
            positive("ACCESS_TOKEN_TTL_SECONDS", DEFAULT_ACCESS_TOKEN_TTL_SECONDS)?;
        let refresh_token_ttl_seconds = positive(
            "REFRESH_TOKEN_TTL_SECONDS",
            DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
        )?;
        let twitter_timeout =
            Duration::from_millis(positive("TWITTER_TIMEOUT_MS", DEFAULT_TWITTER_TIMEOUT_MS)?);
        let base = value("TWITTER_API_BASE").unwrap_or_else(|| DEFAULT_TWITTER_API_BASE.to_owned());
        let twitter_api_base = Url::parse(&base)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .ok_or_else(|| ConfigError("TWITTER_API_BASE must be an http(s) URL".to_owned()))?;

        Ok(Config {
            tables,
            policy: Policy {
                data_center,
                access_token_ttl_seconds,
                refresh_token_ttl_seconds,
            },
            twitter_api_base,
            twitter_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| env.get(name).cloned())
    }

    const REQUIRED: [(&str, &str); 4] = [
        ("USER_DOMAIN_TABLE", "domains"),
        ("MCC_TABLE", "mccs"),
        ("TOKEN_TABLE", "tokens"),
        ("DATA_CENTER", "eu-1"),
    ];

    #[test]
    fn defaults_follow_the_contract() {
        let config = config(&REQUIRED).expect("config");
        assert_eq!(
            config.tables,
            TableNames {
                user_domain: "domains".into(),
                mcc: "mccs".into(),
                token: "tokens".into()
            }
        );
        assert_eq!(config.policy.data_center, "eu-1");
        assert_eq!(config.policy.access_token_ttl_seconds, 7200);
        assert_eq!(config.policy.refresh_token_ttl_seconds, 2_592_000);
        assert_eq!(config.twitter_api_base.as_str(), "https://api.twitter.com/");
        assert_eq!(config.twitter_timeout, Duration::from_millis(3000));
    }

    #[test]
    fn every_required_variable_is_required() {
        for (missing, _) in REQUIRED {
            let rest: Vec<(&str, &str)> = REQUIRED
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            assert_eq!(
                config(&rest).err(),
                Some(ConfigError(format!("{missing} is required")))
            );
            let mut blank = rest.clone();
            blank.push((missing, "  "));
            assert_eq!(
                config(&blank).err(),
                Some(ConfigError(format!("{missing} is required")))
            );
        }
    }

    #[test]
    fn overrides_are_read_and_checked() {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend([
            ("ACCESS_TOKEN_TTL_SECONDS", "60"),
            ("REFRESH_TOKEN_TTL_SECONDS", "600"),
            ("TWITTER_API_BASE", "http://127.0.0.1:9000"),
            ("TWITTER_TIMEOUT_MS", "250"),
        ]);
        let loaded = config(&pairs).expect("config");
        assert_eq!(loaded.policy.access_token_ttl_seconds, 60);
        assert_eq!(loaded.policy.refresh_token_ttl_seconds, 600);
        assert_eq!(loaded.twitter_api_base.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(loaded.twitter_timeout, Duration::from_millis(250));

        for (name, bad) in [
            ("ACCESS_TOKEN_TTL_SECONDS", "0"),
            ("REFRESH_TOKEN_TTL_SECONDS", "-5"),
            ("TWITTER_TIMEOUT_MS", "3s"),
            ("TWITTER_API_BASE", "ftp://example.com"),
            ("TWITTER_API_BASE", "not a url"),
        ] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push((name, bad));
            let error = config(&pairs).expect_err(bad);
            assert!(error.0.starts_with(name), "{error}");
            assert!(!error.0.contains(bad), "the value is not echoed: {error}");
        }
    }
}
