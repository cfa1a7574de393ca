//! Manages twitter-auth-login's tables on any DynamoDB endpoint: creates them from
//! template.yaml, provisions user domains, Twitter apps and MCC routes, and looks after end
//! users and their sessions. Table names come from the same variables as the functions'.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::ProvideCredentials;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use twitter_auth_admin::actions::{rotate_signing_keys, uid_of};
use twitter_auth_admin::provision;
use twitter_auth_admin::template::Template;
use twitter_auth_admin::{Admin, AdminError};
use twitter_auth_login::config::{Table, TableNames};
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::secrets::DerivationSecret;
use twitter_auth_login::secrets::rotation::RotationTarget;

#[derive(Parser)]
#[command(
    name = "twitter-auth-admin",
    about = "Provision and look after twitter-auth-login's tables: user domains, Twitter apps, \
             MCC routes, end users and their sessions"
)]
struct Cli {
    /// DynamoDB endpoint, for a local server (else AWS_ENDPOINT_URL_DYNAMODB, else AWS).
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// On an error, also print the AWS SDK's full account of it.
    #[arg(long, global = true)]
    verbose: bool,
    #[arg(long, env = "USER_DOMAIN_TABLE", global = true, hide_env_values = true)]
    user_domain_table: Option<String>,
    #[arg(long, env = "MCC_TABLE", global = true, hide_env_values = true)]
    mcc_table: Option<String>,
    #[arg(long, env = "TOKEN_TABLE", global = true, hide_env_values = true)]
    token_table: Option<String>,
    #[arg(long, env = "SESSION_TABLE", global = true, hide_env_values = true)]
    session_table: Option<String>,
    #[arg(long, env = "USER_TABLE", global = true, hide_env_values = true)]
    user_table: Option<String>,
    /// The signing keys' secret (name or ARN), for rotate-signing-keys.
    #[arg(
        long,
        env = "SIGNING_KEYS_SECRET",
        global = true,
        hide_env_values = true
    )]
    signing_keys_secret: Option<String>,
    /// The public keys' parameter, for rotate-signing-keys.
    #[arg(
        long,
        env = "PUBLIC_KEYS_PARAMETER",
        global = true,
        hide_env_values = true
    )]
    public_keys_parameter: Option<String>,
    /// The derivation secret (name or ARN), for show-user by user domain and Twitter id.
    #[arg(
        long,
        env = "DERIVATION_KEY_SECRET",
        global = true,
        hide_env_values = true
    )]
    derivation_key_secret: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the tables whose names are given, exactly as template.yaml defines them (for a
    /// local DynamoDB; on AWS the stack creates them).
    CreateTables {
        /// Another template than the one built in.
        #[arg(long)]
        template: Option<std::path::PathBuf>,
    },
    /// Add an enabled user domain; prints its secret, generated unless --secret-stdin.
    AddDomain {
        user_domain: String,
        /// Read the secret (at least 16 characters) from standard input, or a prompt on a
        /// terminal, instead of generating one.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// Disable a user domain: its logins and refreshes answer 5104, the authorizer denies.
    DisableDomain { user_domain: String },
    /// Enable a user domain again.
    EnableDomain { user_domain: String },
    /// Add or replace a Twitter app on a user domain. The consumer secret is read from
    /// standard input, or a prompt on a terminal, so that it stays out of `ps` and shell
    /// history.
    AddApp {
        user_domain: String,
        app_id: String,
        #[arg(long)]
        consumer_key: String,
    },
    /// Remove an app from a user domain.
    RemoveApp { user_domain: String, app_id: String },
    /// Route an MCC to a data center.
    SetMcc {
        #[arg(allow_hyphen_values = true)]
        mcc: i32,
        data_center: String,
    },
    /// Remove an MCC route.
    RemoveMcc {
        #[arg(allow_hyphen_values = true)]
        mcc: i32,
    },
    /// Show a user domain as JSON; secrets only with --show-secrets.
    ShowDomain {
        user_domain: String,
        #[arg(long)]
        show_secrets: bool,
    },
    /// Show an end user as JSON, by uid or by user domain and Twitter user id.
    ShowUser {
        #[arg(required_unless_present_all = ["user_domain", "twitter_user_id"], conflicts_with_all = ["user_domain", "twitter_user_id"])]
        uid: Option<String>,
        #[arg(long, requires = "twitter_user_id")]
        user_domain: Option<String>,
        #[arg(long, requires = "user_domain")]
        twitter_user_id: Option<String>,
    },
    /// List an end user's sessions as JSON, newest first.
    ListSessions { uid: String },
    /// Revoke one session of an end user.
    RevokeSession { uid: String, session_id: String },
    /// Revoke every active session of an end user.
    RevokeAllSessions { uid: String },
    /// Rotate the signing keys now, as their Secrets Manager rotation does: the next key
    /// signs, the current one stays published as previous, a new next key is published.
    RotateSigningKeys,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error.message);
            match (&error.detail, verbose) {
                (Some(detail), true) => eprintln!("cause: {detail}"),
                (Some(_), false) => eprintln!("(--verbose shows the AWS SDK's account of it)"),
                _ => {}
            }
            ExitCode::FAILURE
        }
    }
}

impl Cli {
    /// The table names given, by flag or variable.
    fn tables(&self) -> TableNames {
        [
            (Table::UserDomain, &self.user_domain_table),
            (Table::Mcc, &self.mcc_table),
            (Table::Token, &self.token_table),
            (Table::Session, &self.session_table),
            (Table::User, &self.user_table),
        ]
        .into_iter()
        .filter_map(|(table, name)| name.clone().filter(|n| !n.is_empty()).map(|n| (table, n)))
        .fold(TableNames::default(), |tables, (table, name)| {
            tables.with(table, name)
        })
    }
}

/// A client for the endpoint, after checking that there is a region and credentials: without
/// them every call would fail with a long account of the SDK's search for them.
async fn client(endpoint_url: Option<&str>) -> Result<(SdkConfig, String), AdminError> {
    let mut loader = aws_config::from_env();
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let Some(region) = config.region() else {
        return Err(AdminError::new(
            "no AWS region: set AWS_REGION (any region does for a local DynamoDB)",
        ));
    };
    let endpoint = endpoint_url
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| format!("DynamoDB in {region}"));
    let credentials = match config.credentials_provider() {
        Some(provider) => provider
            .provide_credentials()
            .await
            .map(|_| ())
            .map_err(|e| AdminError {
                message: String::new(),
                detail: Some(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()),
            }),
        None => Err(AdminError::new("")),
    };
    if let Err(mut error) = credentials {
        error.message = "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
                         AWS_PROFILE (any values do for a local DynamoDB)"
            .to_owned();
        return Err(error);
    }
    Ok((config, endpoint))
}

/// A secret from a prompt on a terminal (not echoed), else the first line of standard input.
/// Never from a flag or a variable: those show in `ps`, shell history and later commands.
fn read_secret(prompt: &str) -> Result<Secret, AdminError> {
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
            .map_err(|e| AdminError::new(format!("reading the secret: {e}")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| AdminError::new(format!("reading the secret from standard input: {e}")))?;
        line
    };
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.trim().is_empty() {
        return Err(AdminError::new(
            "no secret on standard input: pipe it in, one line",
        ));
    }
    Ok(Secret::new(secret))
}

fn print(json: &Value) -> Result<(), AdminError> {
    let text = serde_json::to_string_pretty(json).map_err(|e| AdminError::new(e.to_string()))?;
    println!("{text}");
    Ok(())
}

async fn run(cli: Cli) -> Result<(), AdminError> {
    let tables = cli.tables();
    let (aws, endpoint) = client(cli.endpoint_url.as_deref()).await?;
    let client = Client::new(&aws);
    let admin = Admin::new(client.clone(), tables.clone(), endpoint.clone());
    let named = |value: &Option<String>, flag: &str, variable: &str| {
        value
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AdminError::new(format!("set {variable} or --{flag}")))
    };

    match cli.command {
        Command::CreateTables { template } => {
            let template = match template {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| AdminError::new(format!("{}: {e}", path.display())))
                    .and_then(|text| {
                        Template::parse(&text)
                            .map_err(|e| AdminError::new(format!("{}: {e}", path.display())))
                    })?,
                None => Template::shipped(),
            };
            let named = provision::named_tables(&template, &tables).map_err(AdminError::new)?;
            if named.is_empty() {
                return Err(AdminError::new(
                    "name the tables to create: USER_DOMAIN_TABLE, MCC_TABLE, TOKEN_TABLE, \
                     SESSION_TABLE, USER_TABLE, or their flags (--user-domain-table ...)",
                ));
            }
            provision::create_tables(&client, &template, &tables, &endpoint).await?;
            let names: Vec<String> = named.into_iter().map(|(name, _)| name).collect();
            println!("created {} at {endpoint}", names.join(", "));
        }
        Command::AddDomain {
            user_domain,
            secret_stdin,
        } => {
            let given = if secret_stdin {
                Some(read_secret("user domain secret: ")?)
            } else {
                None
            };
            let secret = admin.add_domain(&user_domain, given).await?;
            println!("{}", secret.expose());
        }
        Command::DisableDomain { user_domain } => admin.set_enabled(&user_domain, false).await?,
        Command::EnableDomain { user_domain } => admin.set_enabled(&user_domain, true).await?,
        Command::AddApp {
            user_domain,
            app_id,
            consumer_key,
        } => {
            let consumer_secret = read_secret("consumer secret: ")?;
            admin
                .add_twitter_app(&user_domain, &app_id, &consumer_key, &consumer_secret)
                .await?
        }
        Command::RemoveApp {
            user_domain,
            app_id,
        } => admin.remove_app(&user_domain, &app_id).await?,
        Command::SetMcc { mcc, data_center } => admin.set_mcc_route(mcc, &data_center).await?,
        Command::RemoveMcc { mcc } => admin.remove_mcc_route(mcc).await?,
        Command::ShowDomain {
            user_domain,
            show_secrets,
        } => {
            let view = admin.show_domain(&user_domain, show_secrets).await?;
            let apps: Vec<Value> = view
                .apps
                .iter()
                .map(|app| {
                    let mut json = json!({
                        "appId": app.app_id, "platform": app.platform, "consumerKey": app.consumer_key,
                    });
                    if let Some(secret) = &app.consumer_secret {
                        json["consumerSecret"] = secret.clone().into();
                    }
                    json
                })
                .collect();
            let mut json =
                json!({"userDomain": view.user_domain, "enabled": view.enabled, "apps": apps});
            if let Some(secret) = &view.secret {
                json["userDomainSecret"] = secret.clone().into();
            }
            print(&json)?;
        }
        Command::ShowUser {
            uid,
            user_domain,
            twitter_user_id,
        } => {
            let uid = match (uid, user_domain, twitter_user_id) {
                (Some(uid), _, _) => uid,
                (None, Some(domain), Some(id)) => {
                    let secret = named(
                        &cli.derivation_key_secret,
                        "derivation-key-secret",
                        "DERIVATION_KEY_SECRET",
                    )?;
                    let derivation =
                        DerivationSecret::new(aws_sdk_secretsmanager::Client::new(&aws), secret);
                    uid_of(&derivation, &domain, &id).await?
                }
                _ => {
                    return Err(AdminError::new(
                        "give a uid, or --user-domain and --twitter-user-id",
                    ));
                }
            };
            let user = admin.show_user(&uid).await?;
            print(&serde_json::to_value(user).map_err(|e| AdminError::new(e.to_string()))?)?;
        }
        Command::ListSessions { uid } => print(&Value::Array(admin.list_sessions(&uid).await?))?,
        Command::RevokeSession { uid, session_id } => {
            admin.revoke_session(&uid, &session_id).await?;
            println!("revoked session {session_id} of {uid}");
        }
        Command::RevokeAllSessions { uid } => {
            let revoked = admin.revoke_all_sessions(&uid).await?;
            println!("revoked {revoked} sessions of {uid}");
        }
        Command::RotateSigningKeys => {
            let target = RotationTarget {
                secrets: aws_sdk_secretsmanager::Client::new(&aws),
                parameters: aws_sdk_ssm::Client::new(&aws),
                secret_id: named(
                    &cli.signing_keys_secret,
                    "signing-keys-secret",
                    "SIGNING_KEYS_SECRET",
                )?,
                parameter: named(
                    &cli.public_keys_parameter,
                    "public-keys-parameter",
                    "PUBLIC_KEYS_PARAMETER",
                )?,
            };
            let version = rotate_signing_keys(&target).await?;
            println!("rotated {}: version {version} is current", target.secret_id);
        }
    }
    Ok(())
}
