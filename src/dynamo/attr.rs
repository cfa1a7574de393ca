//! Attribute names, as the tables hold them. Operators and other services read these names too.

// User domains and MCC routes.
pub const USER_DOMAIN: &str = "userDomain";
pub const USER_DOMAIN_SECRET: &str = "userDomainSecret";
pub const ENABLED: &str = "enabled";
pub const APPS: &str = "apps";
pub const PLATFORM: &str = "platform";
pub const CONSUMER_KEY: &str = "consumerKey";
pub const CONSUMER_SECRET: &str = "consumerSecret";
pub const MCC: &str = "mcc";
pub const DATA_CENTER: &str = "dataCenter";

// Tokens.
pub const TOKEN_HASH: &str = "tokenHash";
pub const KIND: &str = "kind";
pub const PAIR_ID: &str = "pairId";
pub const APP_ID: &str = "appId";
pub const TWITTER_USER_ID: &str = "twitterUserId";
pub const TWITTER_USERNAME: &str = "twitterUsername";
pub const ISSUED_AT: &str = "issuedAt";
pub const EXPIRATION_TIME: &str = "expirationTime";
pub const UID: &str = "uid";
pub const SESSION_ID: &str = "sessionId";

// Sessions (beside uid, sessionId, appId, userDomain, expirationTime).
pub const CREATED_AT: &str = "createdAt";
pub const REFRESHED_AT: &str = "refreshedAt";
pub const STATUS: &str = "status";
pub const REVOKED_REASON: &str = "revokedReason";
pub const ACCESS_TOKEN_HASH: &str = "accessTokenHash";
pub const REFRESH_TOKEN_HASH: &str = "refreshTokenHash";
pub const PREVIOUS_REFRESH_TOKEN_HASH: &str = "previousRefreshTokenHash";
pub const ROTATED_AT: &str = "rotatedAt";
pub const ACCESS_KEY_ID: &str = "accessKeyId";
/// The login's `User-Agent`, cleaned and cut; absent when it sent none.
pub const USER_AGENT: &str = "userAgent";
/// The last login or refresh.
pub const LAST_USED_AT: &str = "lastUsedAt";
/// `createdAt`, present only while the session is active: the sort key of [`ACTIVE_SESSIONS`].
pub const ACTIVE_SINCE: &str = "activeSince";
/// The sessions table's local secondary index of each user's active sessions (sparse: only
/// items with `activeSince`).
pub const ACTIVE_SESSIONS: &str = "ActiveSessions";

// Users (beside uid, userDomain, twitterUserId, twitterUsername, status).
pub const REGISTER_TIME: &str = "registerTime";
pub const LAST_LOGIN_TIME: &str = "lastLoginTime";
/// At least how many live sessions the user has: every login adds one, and a login at the
/// cap sets it from the sessions it counted.
pub const SESSION_LEDGER: &str = "sessionLedger";
/// How many logins wrote `sessionLedger`.
pub const SESSION_LEDGER_WRITES: &str = "sessionLedgerWrites";
