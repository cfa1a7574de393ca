//! The login world on loopback: the template's three tables on moto under fresh names, the demo
//! user domain, app and MCC route seeded through the admin API, and the Twitter stand-in.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use testkit::twitter::{Account, TwitterStub};
use twitter_auth_login::admin::Admin;
use twitter_auth_login::config::{Config, TableNames};
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::handler::Handler;
use twitter_auth_login::login::Login;
use twitter_auth_login::provision;
use twitter_auth_login::token::random_hex;
use twitter_auth_login::twitter::TwitterClient;

use crate::event::{self, APP_ID, CONSUMER_KEY, CONSUMER_SECRET, DATA_CENTER, DOMAIN, MCC};

pub const REGION: &str = "us-east-1";

pub type RealHandler = Handler<DynamoStore, TwitterClient>;

pub struct World {
    /// moto's URL.
    pub endpoint: String,
    pub tables: TableNames,
    pub domain_secret: String,
    pub twitter: TwitterStub,
}

/// A DynamoDB client for `endpoint` with the function's own limits.
pub fn dynamodb_client(endpoint: &str) -> Client {
    let builder = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"));
    Client::from_conf(Limits::default().apply(builder).build())
}

impl World {
    /// Needs a DynamoDB API: `DYNAMODB_TEST_ENDPOINT`, or a moto server testkit starts.
    pub async fn new() -> Result<World, String> {
        let endpoint = testkit::moto::dynamodb_endpoint()?;
        let client = dynamodb_client(&endpoint);
        let prefix = random_hex::<6>().map_err(|e| format!("{e:?}"))?;
        let tables = TableNames {
            user_domain: format!("bench-{prefix}-user-domains"),
            mcc: format!("bench-{prefix}-mcc-routes"),
            token: format!("bench-{prefix}-tokens"),
        };
        provision::create_login_tables(&client, provision::TEMPLATE, &tables).await?;
        let admin = Admin::new(client, tables.clone());
        let domain_secret = admin
            .add_domain(DOMAIN, None)
            .await
            .map_err(|e| e.to_string())?;
        admin
            .add_twitter_app(DOMAIN, APP_ID, CONSUMER_KEY, CONSUMER_SECRET)
            .await
            .map_err(|e| e.to_string())?;
        admin
            .set_mcc_route(MCC, DATA_CENTER)
            .await
            .map_err(|e| e.to_string())?;
        let twitter = TwitterStub::start(vec![Account {
            consumer_key: CONSUMER_KEY.into(),
            consumer_secret: CONSUMER_SECRET.into(),
            token: event::OAUTH_TOKEN.into(),
            token_secret: event::OAUTH_TOKEN_SECRET.into(),
            user_id: event::TWITTER_USER_ID.into(),
            username: event::TWITTER_USERNAME.into(),
        }])
        .await
        .map_err(|e| format!("twitter stand-in: {e}"))?;
        Ok(World {
            endpoint,
            tables,
            domain_secret,
            twitter,
        })
    }

    /// The login event, signed for this world's user domain.
    pub fn event(&self) -> String {
        event::rest_event(&self.domain_secret)
    }

    /// The function's own configuration variables, with DynamoDB at `dynamodb_endpoint`.
    pub fn function_env(&self, dynamodb_endpoint: &str) -> Vec<(String, String)> {
        [
            ("USER_DOMAIN_TABLE", self.tables.user_domain.as_str()),
            ("MCC_TABLE", self.tables.mcc.as_str()),
            ("TOKEN_TABLE", self.tables.token.as_str()),
            ("DATA_CENTER", DATA_CENTER),
            ("TWITTER_API_BASE", &self.twitter.base_url()),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Everything a Lambda execution environment sets, plus the function's configuration:
    /// the whole environment of a binary run under the emulator at `runtime_api`.
    pub fn lambda_env(&self, runtime_api: &str, dynamodb_endpoint: &str) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api),
            ("AWS_LAMBDA_FUNCTION_NAME", "twitter-auth-login"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            ),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/twitter-auth-login",
            ),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
            ("AWS_REGION", REGION),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "bench"),
            ("AWS_SECRET_ACCESS_KEY", "bench"),
            ("AWS_SESSION_TOKEN", "bench"),
            ("LANG", "en_US.UTF-8"),
            ("TZ", ":UTC"),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        env.extend(self.function_env(dynamodb_endpoint));
        env
    }

    /// The function's handler, built in this process from the same configuration the binary
    /// reads, with its DynamoDB calls going to `dynamodb_endpoint`.
    pub fn handler(&self, dynamodb_endpoint: &str) -> Result<RealHandler, String> {
        let config = self.config(dynamodb_endpoint)?;
        let store = DynamoStore::new(dynamodb_client(dynamodb_endpoint), config.tables.clone());
        Ok(Handler::new(Login::new(
            store,
            self.twitter_client()?,
            config.policy,
        )))
    }

    /// The function's configuration, read from [`World::function_env`].
    pub fn config(&self, dynamodb_endpoint: &str) -> Result<Config, String> {
        let env: HashMap<String, String> =
            self.function_env(dynamodb_endpoint).into_iter().collect();
        Config::from_lookup(|name| env.get(name).cloned()).map_err(|e| e.to_string())
    }

    /// The function's Twitter adapter, pointed at the stand-in.
    pub fn twitter_client(&self) -> Result<TwitterClient, String> {
        let config = self.config(&self.endpoint)?;
        TwitterClient::new(&config.twitter_api_base, config.twitter_timeout)
            .map_err(|e| format!("twitter client: {e}"))
    }
}
