//! Configuration from the environment, read once at start-up. Each function has its own
//! configuration, holding what it uses and nothing else, and requires only the variables it
//! reads. Every variable any function reads is read here.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use crate::domain::session::Lifetimes;
pub use crate::domain::session_cap::DEFAULT_MAX_SESSIONS_PER_USER;
use crate::invocation::metrics::DEFAULT_NAMESPACE;

pub const DEFAULT_ACCESS_TOKEN_TTL_SECONDS: u64 = 7200;
pub const DEFAULT_REFRESH_TOKEN_TTL_SECONDS: u64 = 2_592_000;
pub const DEFAULT_REFRESH_REUSE_GRACE_SECONDS: u64 = 30;
pub const DEFAULT_SESSION_MAX_SECONDS: u64 = 7_776_000;
pub const DEFAULT_TWITTER_API_BASE: &str = "https://api.twitter.com";
pub const DEFAULT_TWITTER_TIMEOUT_MS: u64 = 3000;
pub const DEFAULT_SIGNING_KEYS_REFRESH_SECONDS: u64 = 300;
pub const DEFAULT_DOMAIN_CACHE_SECONDS: u64 = 10;
pub const DEFAULT_MCC_CACHE_SECONDS: u64 = 300;

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
pub struct TableNames {
    names: [Option<String>; 5],
}

impl TableNames {
    pub fn get(&self, table: Table) -> Option<&str> {
        self.names[table as usize].as_deref()
    }

    pub fn with(mut self, table: Table, name: impl Into<String>) -> Self {
        self.names[table as usize] = Some(name.into());
        self
    }
}

/// How long an instance keeps what it read of a user domain and of an MCC route; 0 keeps
/// nothing. A function that does not read a table keeps nothing of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSeconds {
    /// `DOMAIN_CACHE_SECONDS`.
    pub user_domain: u64,
    /// `MCC_CACHE_SECONDS`.
    pub mcc: u64,
}

impl CacheSeconds {
    pub const OFF: CacheSeconds = CacheSeconds {
        user_domain: 0,
        mcc: 0,
    };
}

/// Where the DynamoDB adapter finds its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub tables: TableNames,
    /// Of the tables it reads, what it keeps and how long.
    pub cache: CacheSeconds,
    /// `AWS_ENDPOINT_URL_DYNAMODB` (else `AWS_ENDPOINT_URL`), for a local DynamoDB; unset or
    /// empty means AWS's own.
    pub endpoint: Option<String>,
}

/// How the process logs and names its metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telemetry {
    /// `AWS_LAMBDA_LOG_LEVEL`: the functions' own level (dependencies stay at `warn`).
    pub log_level: String,
    /// `AWS_LAMBDA_LOG_FORMAT=JSON`.
    pub json_logs: bool,
    /// `METRICS_NAMESPACE`.
    pub metrics_namespace: String,
}

/// Where and how long the login asks Twitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwitterSettings {
    pub api_base: Url,
    pub timeout: Duration,
}

/// A Secrets Manager secret a function reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretConfig {
    /// Its name or ARN.
    pub secret_id: String,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER` (else `AWS_ENDPOINT_URL`); unset or empty means AWS's.
    pub endpoint: Option<String>,
}

/// The public keys' SSM parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterConfig {
    pub name: String,
    /// `AWS_ENDPOINT_URL_SSM` (else `AWS_ENDPOINT_URL`); unset or empty means AWS's.
    pub endpoint: Option<String>,
}

/// What the functions that sign access tokens need: the issuer they name, the private keys,
/// how often to read them again, and the derivation secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningConfig {
    /// `TOKEN_ISSUER`: every access token's `iss`.
    pub issuer: String,
    /// `SIGNING_KEYS_SECRET`.
    pub keys: SecretConfig,
    /// `SIGNING_KEYS_REFRESH_SECONDS`.
    pub keys_refresh_seconds: u64,
    /// `DERIVATION_KEY_SECRET`.
    pub derivation: SecretConfig,
}

/// What the functions that verify access tokens need: the issuer they expect, and the
/// published keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingConfig {
    pub issuer: String,
    /// `PUBLIC_KEYS_PARAMETER`.
    pub keys: ParameterConfig,
    pub keys_refresh_seconds: u64,
}

/// `twitter-auth-login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginConfig {
    pub store: StoreConfig,
    /// This deployment's data center: an MCC routed elsewhere is refused.
    pub data_center: String,
    pub lifetimes: Lifetimes,
    pub twitter: TwitterSettings,
    pub signing: SigningConfig,
    /// `MAX_SESSIONS_PER_USER`: the most live sessions an end user may have.
    pub max_sessions_per_user: u64,
}

/// `refresh-token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshConfig {
    pub store: StoreConfig,
    pub lifetimes: Lifetimes,
    /// How long a rotated refresh token may still be presented again: at least a second.
    pub refresh_reuse_grace: u64,
    pub signing: SigningConfig,
}

/// `user-logout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutConfig {
    pub store: StoreConfig,
    pub session_max: u64,
    pub verifying: VerifyingConfig,
}

/// `token-keys`: the discovery documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKeysConfig {
    pub verifying: VerifyingConfig,
}

/// `signing-key-rotation`: the secret it rotates and the parameter it publishes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationConfig {
    pub keys: SecretConfig,
    pub public_keys: ParameterConfig,
}

/// `user-info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfoConfig {
    pub store: StoreConfig,
}

/// `list-sessions` and `end-session`: the end user's own sessions, behind the authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionsConfig {
    pub store: StoreConfig,
    pub session_max: u64,
}

/// `token-authorizer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerConfig {
    pub store: StoreConfig,
    pub session_max: u64,
    pub verifying: VerifyingConfig,
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

/// The variables as one function reads them, through `lookup` (the process environment, or a
/// test's map). A blank value counts as unset.
struct Variables<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Variables<F> {
    fn value(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.value(name)
            .ok_or_else(|| ConfigError(format!("{name} is required")))
    }

    /// A whole number above zero, or `default` when unset.
    fn positive(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        let Some(raw) = self.value(name) else {
            return Ok(default);
        };
        raw.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError(format!("{name} must be a positive whole number")))
    }

    /// A whole number, 0 included, or `default` when unset.
    fn whole(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        let Some(raw) = self.value(name) else {
            return Ok(default);
        };
        raw.trim()
            .parse::<u64>()
            .map_err(|_| ConfigError(format!("{name} must be a whole number")))
    }

    /// The named tables, each required, and the cache time of those of them that are cached.
    fn store(&self, tables: &[Table]) -> Result<StoreConfig, ConfigError> {
        let mut names = TableNames::default();
        for table in tables {
            names = names.with(*table, self.required(table.variable())?);
        }
        let cached = |table: Table, name: &str, default: u64| {
            if tables.contains(&table) {
                self.whole(name, default)
            } else {
                Ok(0)
            }
        };
        Ok(StoreConfig {
            tables: names,
            cache: CacheSeconds {
                user_domain: cached(
                    Table::UserDomain,
                    "DOMAIN_CACHE_SECONDS",
                    DEFAULT_DOMAIN_CACHE_SECONDS,
                )?,
                mcc: cached(Table::Mcc, "MCC_CACHE_SECONDS", DEFAULT_MCC_CACHE_SECONDS)?,
            },
            endpoint: self.endpoint("AWS_ENDPOINT_URL_DYNAMODB"),
        })
    }

    /// An SDK endpoint variable, else the SDK's global one; empty means unset.
    fn endpoint(&self, name: &str) -> Option<String> {
        self.value(name).or_else(|| self.value("AWS_ENDPOINT_URL"))
    }

    fn lifetimes(&self) -> Result<Lifetimes, ConfigError> {
        Ok(Lifetimes {
            access_token_ttl: self
                .positive("ACCESS_TOKEN_TTL_SECONDS", DEFAULT_ACCESS_TOKEN_TTL_SECONDS)?,
            refresh_token_ttl: self.positive(
                "REFRESH_TOKEN_TTL_SECONDS",
                DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
            )?,
            session_max: self.session_max()?,
        })
    }

    fn session_max(&self) -> Result<u64, ConfigError> {
        self.positive("SESSION_MAX_SECONDS", DEFAULT_SESSION_MAX_SECONDS)
    }

    fn secret(&self, name: &str) -> Result<SecretConfig, ConfigError> {
        Ok(SecretConfig {
            secret_id: self.required(name)?,
            endpoint: self.endpoint("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        })
    }

    fn parameter(&self, name: &str) -> Result<ParameterConfig, ConfigError> {
        Ok(ParameterConfig {
            name: self.required(name)?,
            endpoint: self.endpoint("AWS_ENDPOINT_URL_SSM"),
        })
    }

    /// `TOKEN_ISSUER`: an https:// URL (loopback may be http://) with no trailing slash.
    fn issuer(&self) -> Result<String, ConfigError> {
        let issuer = self.required("TOKEN_ISSUER")?;
        let url = Url::parse(&issuer).ok().filter(|url| {
            (url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url)))
                && url.query().is_none()
                && url.fragment().is_none()
        });
        if url.is_none() || issuer.ends_with('/') {
            return Err(ConfigError(
                "TOKEN_ISSUER must be an https:// URL without a trailing slash".to_owned(),
            ));
        }
        Ok(issuer)
    }

    fn keys_refresh_seconds(&self) -> Result<u64, ConfigError> {
        self.positive(
            "SIGNING_KEYS_REFRESH_SECONDS",
            DEFAULT_SIGNING_KEYS_REFRESH_SECONDS,
        )
    }

    fn signing(&self) -> Result<SigningConfig, ConfigError> {
        Ok(SigningConfig {
            issuer: self.issuer()?,
            keys: self.secret("SIGNING_KEYS_SECRET")?,
            keys_refresh_seconds: self.keys_refresh_seconds()?,
            derivation: self.secret("DERIVATION_KEY_SECRET")?,
        })
    }

    fn verifying(&self) -> Result<VerifyingConfig, ConfigError> {
        Ok(VerifyingConfig {
            issuer: self.issuer()?,
            keys: self.parameter("PUBLIC_KEYS_PARAMETER")?,
            keys_refresh_seconds: self.keys_refresh_seconds()?,
        })
    }

    fn twitter(&self) -> Result<TwitterSettings, ConfigError> {
        let timeout = self.positive("TWITTER_TIMEOUT_MS", DEFAULT_TWITTER_TIMEOUT_MS)?;
        let base = self
            .value("TWITTER_API_BASE")
            .unwrap_or_else(|| DEFAULT_TWITTER_API_BASE.to_owned());
        let api_base = Url::parse(&base)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .ok_or_else(|| ConfigError("TWITTER_API_BASE must be an http(s) URL".to_owned()))?;
        // Over plain HTTP anyone on the path could answer users/me and sign in as anyone.
        if api_base.scheme() != "https" && !is_loopback(&api_base) {
            return Err(ConfigError(
                "TWITTER_API_BASE must be https://, except on a loopback address".to_owned(),
            ));
        }
        Ok(TwitterSettings {
            api_base,
            timeout: Duration::from_millis(timeout),
        })
    }
}

/// A URL whose host is a loopback IP address (127.0.0.0/8, ::1).
fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Implemented by every function's configuration: read from the environment, or through a
/// lookup (so tests need not touch the process environment).
pub trait FunctionConfig: Sized {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

impl FunctionConfig for LoginConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(LoginConfig {
            store: vars.store(&Table::ALL)?,
            data_center: vars.required("DATA_CENTER")?,
            lifetimes: vars.lifetimes()?,
            twitter: vars.twitter()?,
            signing: vars.signing()?,
            max_sessions_per_user: vars
                .positive("MAX_SESSIONS_PER_USER", DEFAULT_MAX_SESSIONS_PER_USER)?,
        })
    }
}

impl FunctionConfig for RefreshConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(RefreshConfig {
            store: vars.store(&[Table::UserDomain, Table::Token, Table::Session])?,
            lifetimes: vars.lifetimes()?,
            refresh_reuse_grace: vars.positive(
                "REFRESH_REUSE_GRACE_SECONDS",
                DEFAULT_REFRESH_REUSE_GRACE_SECONDS,
            )?,
            signing: vars.signing()?,
        })
    }
}

impl FunctionConfig for LogoutConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(LogoutConfig {
            store: vars.store(&[Table::Token, Table::Session])?,
            session_max: vars.session_max()?,
            verifying: vars.verifying()?,
        })
    }
}

impl FunctionConfig for UserInfoConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(UserInfoConfig {
            store: vars.store(&[Table::User])?,
        })
    }
}

impl FunctionConfig for SessionsConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(SessionsConfig {
            store: vars.store(&[Table::Session])?,
            session_max: vars.session_max()?,
        })
    }
}

impl FunctionConfig for AuthorizerConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(AuthorizerConfig {
            store: vars.store(&[Table::UserDomain, Table::Token, Table::Session])?,
            session_max: vars.session_max()?,
            verifying: vars.verifying()?,
        })
    }
}

impl FunctionConfig for TokenKeysConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(TokenKeysConfig {
            verifying: vars.verifying()?,
        })
    }
}

impl FunctionConfig for RotationConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables { lookup };
        Ok(RotationConfig {
            keys: vars.secret("SIGNING_KEYS_SECRET")?,
            public_keys: vars.parameter("PUBLIC_KEYS_PARAMETER")?,
        })
    }
}

impl Telemetry {
    /// Never refuses: an unknown level logs at INFO, a missing namespace takes the default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Telemetry {
        let vars = Variables { lookup };
        Telemetry {
            log_level: vars.value("AWS_LAMBDA_LOG_LEVEL").unwrap_or_default(),
            json_logs: vars
                .value("AWS_LAMBDA_LOG_FORMAT")
                .is_some_and(|f| f.eq_ignore_ascii_case("json")),
            metrics_namespace: vars
                .value("METRICS_NAMESPACE")
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
        }
    }

    pub fn from_env() -> Telemetry {
        Telemetry::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| env.get(name).cloned()
    }

    fn login(pairs: &[(&str, &str)]) -> Result<LoginConfig, ConfigError> {
        LoginConfig::from_lookup(lookup(pairs))
    }

    const ALL_SET: [(&str, &str); 10] = [
        ("USER_DOMAIN_TABLE", "domains"),
        ("MCC_TABLE", "mccs"),
        ("TOKEN_TABLE", "tokens"),
        ("SESSION_TABLE", "sessions"),
        ("USER_TABLE", "users"),
        ("DATA_CENTER", "eu-1"),
        (
            "TOKEN_ISSUER",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        ),
        ("SIGNING_KEYS_SECRET", "signing-keys"),
        ("DERIVATION_KEY_SECRET", "derivation-key"),
        ("PUBLIC_KEYS_PARAMETER", "/stack/public-keys"),
    ];

    #[test]
    fn defaults_follow_the_contract() {
        let config = login(&ALL_SET).expect("config");
        let tables = &config.store.tables;
        assert_eq!(tables.get(Table::UserDomain), Some("domains"));
        assert_eq!(tables.get(Table::Mcc), Some("mccs"));
        assert_eq!(tables.get(Table::Token), Some("tokens"));
        assert_eq!(tables.get(Table::Session), Some("sessions"));
        assert_eq!(tables.get(Table::User), Some("users"));
        assert_eq!(config.store.endpoint, None);
        assert_eq!(config.data_center, "eu-1");
        assert_eq!(
            config.lifetimes,
            Lifetimes {
                access_token_ttl: 7200,
                refresh_token_ttl: 2_592_000,
                session_max: 7_776_000,
            }
        );
        let refresh = RefreshConfig::from_lookup(lookup(&ALL_SET)).expect("config");
        assert_eq!(refresh.refresh_reuse_grace, 30);
        assert_eq!(config.max_sessions_per_user, 100);
        let sessions = SessionsConfig::from_lookup(lookup(&ALL_SET)).expect("config");
        assert_eq!(sessions.store.tables.get(Table::Session), Some("sessions"));
        assert_eq!(sessions.store.tables.get(Table::Token), None);
        assert_eq!(sessions.session_max, 7_776_000);
        assert_eq!(config.twitter.api_base.as_str(), "https://api.twitter.com/");
        assert_eq!(config.twitter.timeout, Duration::from_millis(3000));
        assert_eq!(
            config.signing,
            SigningConfig {
                issuer: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod".into(),
                keys: SecretConfig {
                    secret_id: "signing-keys".into(),
                    endpoint: None,
                },
                keys_refresh_seconds: 300,
                derivation: SecretConfig {
                    secret_id: "derivation-key".into(),
                    endpoint: None,
                },
            }
        );
        let authorizer = AuthorizerConfig::from_lookup(lookup(&ALL_SET)).expect("config");
        assert_eq!(authorizer.verifying.keys.name, "/stack/public-keys");
        assert_eq!(authorizer.verifying.keys_refresh_seconds, 300);
    }

    #[test]
    fn the_functions_that_read_the_config_tables_cache_them_by_default() {
        let cache = |config: Result<StoreConfig, ConfigError>| config.expect("config").cache;
        let both = CacheSeconds {
            user_domain: 10,
            mcc: 300,
        };
        let domain_only = CacheSeconds {
            user_domain: 10,
            mcc: 0,
        };
        assert_eq!(cache(login(&ALL_SET).map(|c| c.store)), both);
        let store = |config: Result<RefreshConfig, ConfigError>| config.map(|c| c.store);
        assert_eq!(
            cache(store(RefreshConfig::from_lookup(lookup(&ALL_SET)))),
            domain_only
        );
        let authorizer = AuthorizerConfig::from_lookup(lookup(&ALL_SET)).map(|c| c.store);
        assert_eq!(cache(authorizer), domain_only);
        let logout = LogoutConfig::from_lookup(lookup(&ALL_SET)).map(|c| c.store);
        assert_eq!(cache(logout), CacheSeconds::OFF);
    }

    #[test]
    fn cache_times_are_whole_numbers_and_zero_turns_a_cache_off() {
        let mut pairs = ALL_SET.to_vec();
        pairs.extend([("DOMAIN_CACHE_SECONDS", "0"), ("MCC_CACHE_SECONDS", " 45 ")]);
        let config = login(&pairs).expect("config");
        assert_eq!(
            config.store.cache,
            CacheSeconds {
                user_domain: 0,
                mcc: 45
            }
        );
        for name in ["DOMAIN_CACHE_SECONDS", "MCC_CACHE_SECONDS"] {
            for bad in ["-1", "10s", "1.5"] {
                let mut pairs = ALL_SET.to_vec();
                pairs.push((name, bad));
                assert_eq!(
                    login(&pairs),
                    Err(ConfigError(format!("{name} must be a whole number"))),
                    "{name}={bad}"
                );
            }
        }
        // A function that reads neither table does not judge them.
        let mut pairs = ALL_SET.to_vec();
        pairs.extend([("DOMAIN_CACHE_SECONDS", "x"), ("MCC_CACHE_SECONDS", "x")]);
        assert!(LogoutConfig::from_lookup(lookup(&pairs)).is_ok());
        assert!(UserInfoConfig::from_lookup(lookup(&pairs)).is_ok());
        let mut pairs = ALL_SET.to_vec();
        pairs.push(("MCC_CACHE_SECONDS", "x"));
        assert!(RefreshConfig::from_lookup(lookup(&pairs)).is_ok());
        assert!(AuthorizerConfig::from_lookup(lookup(&pairs)).is_ok());
    }

    #[test]
    fn the_issuer_is_an_https_url_without_a_trailing_slash() {
        let with = |issuer: &str| {
            let mut pairs = ALL_SET.to_vec();
            pairs.push(("TOKEN_ISSUER", issuer));
            TokenKeysConfig::from_lookup(lookup(&pairs)).map(|c| c.verifying.issuer)
        };
        for good in [
            "https://auth.example.com",
            "https://abc.execute-api.us-east-1.amazonaws.com/prod",
            "http://127.0.0.1:3000/prod",
        ] {
            assert_eq!(with(good).as_deref(), Ok(good));
        }
        for bad in [
            "https://auth.example.com/",
            "http://auth.example.com/prod",
            "auth.example.com",
            "https://auth.example.com/prod?x=1",
        ] {
            assert!(with(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_are_read_and_checked() {
        let mut pairs = ALL_SET.to_vec();
        pairs.extend([
            ("ACCESS_TOKEN_TTL_SECONDS", "60"),
            ("REFRESH_TOKEN_TTL_SECONDS", "600"),
            ("REFRESH_REUSE_GRACE_SECONDS", "1"),
            ("SESSION_MAX_SECONDS", "900"),
            ("TWITTER_API_BASE", "http://127.0.0.1:9000"),
            ("TWITTER_TIMEOUT_MS", "250"),
            ("MAX_SESSIONS_PER_USER", "3"),
        ]);
        let loaded = login(&pairs).expect("config");
        assert_eq!(loaded.max_sessions_per_user, 3);
        assert_eq!(
            loaded.lifetimes,
            Lifetimes {
                access_token_ttl: 60,
                refresh_token_ttl: 600,
                session_max: 900,
            }
        );
        let refresh = RefreshConfig::from_lookup(lookup(&pairs)).expect("config");
        assert_eq!(refresh.refresh_reuse_grace, 1);
        assert_eq!(loaded.twitter.api_base.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(loaded.twitter.timeout, Duration::from_millis(250));

        for (name, bad) in [
            ("ACCESS_TOKEN_TTL_SECONDS", "0"),
            ("REFRESH_TOKEN_TTL_SECONDS", "-5"),
            ("SESSION_MAX_SECONDS", "0"),
            ("MAX_SESSIONS_PER_USER", "0"),
            ("TWITTER_TIMEOUT_MS", "3s"),
            ("TWITTER_API_BASE", "ftp://example.com"),
            ("TWITTER_API_BASE", "not a url"),
        ] {
            let mut pairs = ALL_SET.to_vec();
            pairs.push((name, bad));
            let error = login(&pairs).expect_err(bad);
            assert!(error.0.starts_with(name), "{error}");
            assert!(!error.0.contains(bad), "the value is not echoed: {error}");
        }
        let mut pairs = ALL_SET.to_vec();
        pairs.push(("REFRESH_REUSE_GRACE_SECONDS", "-1"));
        let error = RefreshConfig::from_lookup(lookup(&pairs)).expect_err("negative");
        assert!(
            error.0.starts_with("REFRESH_REUSE_GRACE_SECONDS"),
            "{error}"
        );
    }

    #[test]
    fn twitter_is_asked_over_https_unless_on_loopback() {
        for good in [
            "https://api.twitter.com",
            "https://api.example.com:8443/prefix",
            "http://127.0.0.1:9000",
            "http://127.45.0.3",
            "http://[::1]:9000",
        ] {
            let mut pairs = ALL_SET.to_vec();
            pairs.push(("TWITTER_API_BASE", good));
            assert!(login(&pairs).is_ok(), "{good}");
        }
        for bad in [
            "http://api.twitter.com",
            "http://10.0.0.1:9000",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://0.0.0.0:9000",
        ] {
            let mut pairs = ALL_SET.to_vec();
            pairs.push(("TWITTER_API_BASE", bad));
            assert_eq!(
                login(&pairs),
                Err(ConfigError(
                    "TWITTER_API_BASE must be https://, except on a loopback address".into()
                )),
                "{bad}"
            );
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
        assert!(UserInfoConfig::from_lookup(lookup(&pairs)).is_ok());
        assert!(
            RefreshConfig::from_lookup(lookup(&pairs)).is_err(),
            "refresh uses the TTLs"
        );
        let no_twitter: Vec<(&str, &str)> = pairs
            .iter()
            .copied()
            .filter(|(k, _)| *k != "ACCESS_TOKEN_TTL_SECONDS")
            .collect();
        assert!(RefreshConfig::from_lookup(lookup(&no_twitter)).is_ok());
        assert!(AuthorizerConfig::from_lookup(lookup(&no_twitter)).is_ok());
        assert!(login(&no_twitter).is_err(), "login uses Twitter");
    }

    #[test]
    fn an_empty_endpoint_variable_means_unset() {
        let store = |pairs: &[(&str, &str)]| {
            UserInfoConfig::from_lookup(lookup(pairs))
                .expect("config")
                .store
                .endpoint
        };
        let table = ("USER_TABLE", "users");
        assert_eq!(store(&[table]), None);
        assert_eq!(store(&[table, ("AWS_ENDPOINT_URL_DYNAMODB", "")]), None);
        let mut pairs = ALL_SET.to_vec();
        pairs.extend([
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", ""),
            ("AWS_ENDPOINT_URL_SSM", " "),
            ("AWS_ENDPOINT_URL", ""),
        ]);
        let login = login(&pairs).expect("config");
        assert_eq!(login.signing.keys.endpoint, None);
        let rotation = RotationConfig::from_lookup(lookup(&pairs)).expect("config");
        assert_eq!(rotation.public_keys.endpoint, None);
        assert_eq!(
            store(&[
                table,
                ("AWS_ENDPOINT_URL_DYNAMODB", " "),
                ("AWS_ENDPOINT_URL", "")
            ]),
            None
        );
        assert_eq!(
            store(&[
                table,
                ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
            ])
            .as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            store(&[
                table,
                ("AWS_ENDPOINT_URL_DYNAMODB", ""),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            ])
            .as_deref(),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn telemetry_comes_from_lambdas_variables() {
        let telemetry = Telemetry::from_lookup(lookup(&[
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("AWS_LAMBDA_LOG_FORMAT", "json"),
            ("METRICS_NAMESPACE", "TwitterAuthLogin/stack"),
        ]));
        assert_eq!(
            telemetry,
            Telemetry {
                log_level: "DEBUG".into(),
                json_logs: true,
                metrics_namespace: "TwitterAuthLogin/stack".into(),
            }
        );
        let defaults = Telemetry::from_lookup(lookup(&[]));
        assert!(!defaults.json_logs);
        assert_eq!(defaults.metrics_namespace, DEFAULT_NAMESPACE);
    }
}
