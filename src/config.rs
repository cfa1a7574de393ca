//! Configuration from the environment, read once at start-up. Every function reads the same
//! variables and requires only those it uses.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use crate::session::Lifetimes;

pub const DEFAULT_ACCESS_TOKEN_TTL_SECONDS: u64 = 7200;
pub const DEFAULT_REFRESH_TOKEN_TTL_SECONDS: u64 = 2_592_000;
pub const DEFAULT_REFRESH_REUSE_GRACE_SECONDS: u64 = 30;
pub const DEFAULT_SESSION_MAX_SECONDS: u64 = 7_776_000;
pub const DEFAULT_TWITTER_API_BASE: &str = "https://api.twitter.com";
pub const DEFAULT_TWITTER_TIMEOUT_MS: u64 = 3000;
pub const DEFAULT_LIFETIMES: Lifetimes = Lifetimes {
    access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
    refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
    refresh_reuse_grace: DEFAULT_REFRESH_REUSE_GRACE_SECONDS,
    session_max: DEFAULT_SESSION_MAX_SECONDS,
};

/// The tables, each named by a variable and defined by a resource of `template.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    UserDomain,
    Mcc,
    Token,
    Session,
    User,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::UserDomain,
        Table::Mcc,
        Table::Token,
        Table::Session,
        Table::User,
    ];

    /// The environment variable that names it.
    pub fn variable(self) -> &'static str {
        match self {
            Table::UserDomain => "USER_DOMAIN_TABLE",
            Table::Mcc => "MCC_TABLE",
            Table::Token => "TOKEN_TABLE",
            Table::Session => "SESSION_TABLE",
            Table::User => "USER_TABLE",
        }
    }

    /// Its resource in `template.yaml`.
    pub fn logical_id(self) -> &'static str {
        match self {
            Table::UserDomain => "UserDomainTable",
            Table::Mcc => "MccTable",
            Table::Token => "TokenTable",
            Table::Session => "SessionTable",
            Table::User => "UserTable",
        }
    }
}

/// The names of the tables a function uses; the others stay unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    names: [Option<String>; 5],
}

impl Tables {
    pub fn get(&self, table: Table) -> Option<&str> {
        self.names[table as usize].as_deref()
    }

    pub fn with(mut self, table: Table, name: impl Into<String>) -> Self {
        self.names[table as usize] = Some(name.into());
        self
    }

    /// Every table named `{prefix}-{kebab-case name}`, for tests and local runs.
    pub fn prefixed(prefix: &str) -> Self {
        Table::ALL
            .into_iter()
            .fold(Tables::default(), |tables, table| {
                let kebab = table
                    .variable()
                    .trim_end_matches("_TABLE")
                    .to_ascii_lowercase()
                    .replace('_', "-");
                tables.with(table, format!("{prefix}-{kebab}s"))
            })
    }
}

/// The five functions of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Login,
    Refresh,
    Logout,
    UserInfo,
    Authorizer,
}

impl Function {
    /// The binary (and CloudFormation function) it is built as.
    pub fn binary(self) -> &'static str {
        match self {
            Function::Login => "twitter-auth-login",
            Function::Refresh => "refresh-token",
            Function::Logout => "user-logout",
            Function::UserInfo => "user-info",
            Function::Authorizer => "token-authorizer",
        }
    }

    /// The tables it reads or writes, whose variables it requires.
    pub fn tables(self) -> &'static [Table] {
        match self {
            Function::Login => &[
                Table::UserDomain,
                Table::Mcc,
                Table::Token,
                Table::Session,
                Table::User,
            ],
            Function::Refresh | Function::Authorizer => {
                &[Table::UserDomain, Table::Token, Table::Session]
            }
            Function::Logout => &[Table::Token, Table::Session],
            Function::UserInfo => &[Table::User],
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub tables: Tables,
    pub lifetimes: Lifetimes,
    /// This deployment's data center; login only.
    pub data_center: String,
    /// Login only.
    pub twitter: Option<TwitterSettings>,
}

/// Where and how long the login asks Twitter.
#[derive(Debug, Clone)]
pub struct TwitterSettings {
    pub api_base: Url,
    pub timeout: Duration,
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
    pub fn from_env(function: Function) -> Result<Self, ConfigError> {
        Self::from_lookup(function, |name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(
        function: Function,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let value = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required =
            |name: &str| value(name).ok_or_else(|| ConfigError(format!("{name} is required")));
        let number = |name: &str, default: u64, zero_allowed: bool| match value(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| zero_allowed || *n > 0)
                .ok_or_else(|| {
                    let kind = if zero_allowed {
                        "whole"
                    } else {
                        "positive whole"
                    };
                    ConfigError(format!("{name} must be a {kind} number"))
                }),
        };

        let mut tables = Tables::default();
        for table in function.tables() {
            tables = tables.with(*table, required(table.variable())?);
        }
        let data_center = match function {
            Function::Login => required("DATA_CENTER")?,
            _ => String::new(),
        };
        // What a function does not use, it neither requires nor judges.
        let uses_tokens = function != Function::UserInfo;
        let lifetimes = if !uses_tokens {
            DEFAULT_LIFETIMES
        } else {
            Lifetimes {
                access_token_ttl: number(
                    "ACCESS_TOKEN_TTL_SECONDS",
                    DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
                    false,
                )?,
                refresh_token_ttl: number(
                    "REFRESH_TOKEN_TTL_SECONDS",
                    DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
                    false,
                )?,
                refresh_reuse_grace: number(
                    "REFRESH_REUSE_GRACE_SECONDS",
                    DEFAULT_REFRESH_REUSE_GRACE_SECONDS,
                    true,
                )?,
                session_max: number("SESSION_MAX_SECONDS", DEFAULT_SESSION_MAX_SECONDS, false)?,
            }
        };
        let twitter = if function == Function::Login {
            let timeout = number("TWITTER_TIMEOUT_MS", DEFAULT_TWITTER_TIMEOUT_MS, false)?;
            let base =
                value("TWITTER_API_BASE").unwrap_or_else(|| DEFAULT_TWITTER_API_BASE.to_owned());
            let api_base = Url::parse(&base)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
                .ok_or_else(|| ConfigError("TWITTER_API_BASE must be an http(s) URL".to_owned()))?;
            Some(TwitterSettings {
                api_base,
                timeout: Duration::from_millis(timeout),
            })
        } else {
            None
        };

        Ok(Config {
            tables,
            lifetimes,
            data_center,
            twitter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(function: Function, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(function, |name| env.get(name).cloned())
    }

    const ALL_SET: [(&str, &str); 6] = [
        ("USER_DOMAIN_TABLE", "domains"),
        ("MCC_TABLE", "mccs"),
        ("TOKEN_TABLE", "tokens"),
        ("SESSION_TABLE", "sessions"),
        ("USER_TABLE", "users"),
        ("DATA_CENTER", "eu-1"),
    ];

    const FUNCTIONS: [Function; 5] = [
        Function::Login,
        Function::Refresh,
        Function::Logout,
        Function::UserInfo,
        Function::Authorizer,
    ];

    #[test]
    fn defaults_follow_the_contract() {
        let config = config(Function::Login, &ALL_SET).expect("config");
        assert_eq!(config.tables.get(Table::UserDomain), Some("domains"));
        assert_eq!(config.tables.get(Table::Mcc), Some("mccs"));
        assert_eq!(config.tables.get(Table::Token), Some("tokens"));
        assert_eq!(config.tables.get(Table::Session), Some("sessions"));
        assert_eq!(config.tables.get(Table::User), Some("users"));
        assert_eq!(config.data_center, "eu-1");
        assert_eq!(
            config.lifetimes,
            Lifetimes {
                access_token_ttl: 7200,
                refresh_token_ttl: 2_592_000,
                refresh_reuse_grace: 30,
                session_max: 7_776_000,
            }
        );
        let twitter = config.twitter.expect("login asks Twitter");
        assert_eq!(twitter.api_base.as_str(), "https://api.twitter.com/");
        assert_eq!(twitter.timeout, Duration::from_millis(3000));
    }

    #[test]
    fn each_function_requires_exactly_what_it_uses() {
        let required = |function: Function| -> Vec<&str> {
            let mut names: Vec<&str> = function.tables().iter().map(|t| t.variable()).collect();
            if function == Function::Login {
                names.push("DATA_CENTER");
            }
            names
        };
        assert_eq!(required(Function::UserInfo), vec!["USER_TABLE"]);
        assert_eq!(
            required(Function::Logout),
            vec!["TOKEN_TABLE", "SESSION_TABLE"]
        );
        for function in FUNCTIONS {
            let needed = required(function);
            for (name, _) in ALL_SET {
                let rest: Vec<(&str, &str)> = ALL_SET
                    .iter()
                    .copied()
                    .filter(|(k, _)| *k != name)
                    .collect();
                let result = config(function, &rest);
                if needed.contains(&name) {
                    assert_eq!(
                        result.err(),
                        Some(ConfigError(format!("{name} is required"))),
                        "{function:?}"
                    );
                    let mut blank = rest.clone();
                    blank.push((name, "  "));
                    assert!(config(function, &blank).is_err());
                } else {
                    let loaded = result.expect("not needed");
                    for table in Table::ALL {
                        let expected =
                            function.tables().contains(&table) && table.variable() != name;
                        assert_eq!(
                            loaded.tables.get(table).is_some(),
                            expected,
                            "{function:?} {table:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn overrides_are_read_and_checked() {
        let mut pairs = ALL_SET.to_vec();
        pairs.extend([
            ("ACCESS_TOKEN_TTL_SECONDS", "60"),
            ("REFRESH_TOKEN_TTL_SECONDS", "600"),
            ("REFRESH_REUSE_GRACE_SECONDS", "0"),
            ("SESSION_MAX_SECONDS", "900"),
            ("TWITTER_API_BASE", "http://127.0.0.1:9000"),
            ("TWITTER_TIMEOUT_MS", "250"),
        ]);
        let loaded = config(Function::Login, &pairs).expect("config");
        assert_eq!(
            loaded.lifetimes,
            Lifetimes {
                access_token_ttl: 60,
                refresh_token_ttl: 600,
                refresh_reuse_grace: 0,
                session_max: 900,
            }
        );
        let twitter = loaded.twitter.expect("login asks Twitter");
        assert_eq!(twitter.api_base.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(twitter.timeout, Duration::from_millis(250));

        for (name, bad) in [
            ("ACCESS_TOKEN_TTL_SECONDS", "0"),
            ("REFRESH_TOKEN_TTL_SECONDS", "-5"),
            ("REFRESH_REUSE_GRACE_SECONDS", "-1"),
            ("SESSION_MAX_SECONDS", "0"),
            ("TWITTER_TIMEOUT_MS", "3s"),
            ("TWITTER_API_BASE", "ftp://example.com"),
            ("TWITTER_API_BASE", "not a url"),
        ] {
            let mut pairs = ALL_SET.to_vec();
            pairs.push((name, bad));
            let error = config(Function::Login, &pairs).expect_err(bad);
            assert!(error.0.starts_with(name), "{error}");
            assert!(!error.0.contains(bad), "the value is not echoed: {error}");
        }
    }

    #[test]
    fn a_variable_a_function_does_not_use_is_not_judged() {
        let mut pairs = ALL_SET.to_vec();
        pairs.extend([
            ("TWITTER_API_BASE", "ftp://x"),
            ("TWITTER_TIMEOUT_MS", "soon"),
            ("ACCESS_TOKEN_TTL_SECONDS", "0"),
        ]);
        assert!(config(Function::UserInfo, &pairs).is_ok());
        assert!(
            config(Function::Refresh, &pairs).is_err(),
            "refresh uses the TTLs"
        );
        let no_twitter: Vec<(&str, &str)> = pairs
            .iter()
            .copied()
            .filter(|(k, _)| *k != "ACCESS_TOKEN_TTL_SECONDS")
            .collect();
        assert!(config(Function::Refresh, &no_twitter).is_ok());
        assert!(config(Function::Authorizer, &no_twitter).is_ok());
        assert!(
            config(Function::Login, &no_twitter).is_err(),
            "login uses Twitter"
        );
    }

    #[test]
    fn prefixed_names_every_table() {
        let tables = Tables::prefixed("t1");
        assert_eq!(tables.get(Table::UserDomain), Some("t1-user-domains"));
        assert_eq!(tables.get(Table::Mcc), Some("t1-mccs"));
        assert_eq!(tables.get(Table::Token), Some("t1-tokens"));
        assert_eq!(tables.get(Table::Session), Some("t1-sessions"));
        assert_eq!(tables.get(Table::User), Some("t1-users"));
    }
}
