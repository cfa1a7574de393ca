//! Manages the data of the config tables (user domains, their Twitter apps, MCC routes) on any
//! DynamoDB endpoint. Table names come from the same variables as the function's.

use std::process::ExitCode;

use aws_sdk_dynamodb::Client;
use clap::{Parser, Subcommand};
use twitter_auth_login::admin::Admin;
use twitter_auth_login::config::TableNames;
use twitter_auth_login::provision;

#[derive(Parser)]
#[command(
    name = "twitter-auth-admin",
    about = "Provision user domains, Twitter apps and MCC routes"
)]
struct Cli {
    /// DynamoDB endpoint, for a local server (the SDK also reads AWS_ENDPOINT_URL_DYNAMODB).
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    #[arg(long, env = "USER_DOMAIN_TABLE", global = true, hide_env_values = true)]
    user_domain_table: Option<String>,
    #[arg(long, env = "MCC_TABLE", global = true, hide_env_values = true)]
    mcc_table: Option<String>,
    #[arg(long, env = "TOKEN_TABLE", global = true, hide_env_values = true)]
    token_table: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the three tables exactly as template.yaml defines them (for a local DynamoDB).
    CreateTables {
        /// Another template than the one built in.
        #[arg(long)]
        template: Option<std::path::PathBuf>,
    },
    /// Add an enabled user domain; prints its secret, generated unless given.
    AddDomain {
        user_domain: String,
        /// Use this secret instead of a generated one (at least 16 characters).
        #[arg(long, env = "USER_DOMAIN_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
    /// Disable a user domain: its logins answer 5104.
    DisableDomain { user_domain: String },
    /// Enable a user domain again.
    EnableDomain { user_domain: String },
    /// Add or replace a Twitter app on a user domain.
    AddApp {
        user_domain: String,
        app_id: String,
        #[arg(long)]
        consumer_key: String,
        /// Read from the environment so that it stays out of shell history.
        #[arg(long, env = "TWITTER_CONSUMER_SECRET", hide_env_values = true)]
        consumer_secret: String,
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
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn table(value: Option<String>, variable: &str) -> Result<String, String> {
    value.filter(|v| !v.is_empty()).ok_or(format!(
        "set {variable} or --{}",
        variable.to_lowercase().replace('_', "-")
    ))
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut loader = aws_config::from_env();
    if let Some(url) = &cli.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let client = Client::new(&loader.load().await);
    let config_tables = || -> Result<TableNames, String> {
        Ok(TableNames {
            user_domain: table(cli.user_domain_table.clone(), "USER_DOMAIN_TABLE")?,
            mcc: table(cli.mcc_table.clone(), "MCC_TABLE")?,
            // Only create-tables touches the token table.
            token: cli.token_table.clone().unwrap_or_default(),
        })
    };
    let admin = || config_tables().map(|tables| Admin::new(client.clone(), tables));
    let failed = |e: twitter_auth_login::admin::AdminError| e.to_string();

    match cli.command {
        Command::CreateTables { template } => {
            let mut tables = config_tables()?;
            tables.token = table(cli.token_table.clone(), "TOKEN_TABLE")?;
            let text = match template {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
                None => provision::TEMPLATE.to_owned(),
            };
            provision::create_login_tables(&client, &text, &tables).await?;
            println!(
                "created {}, {} and {}",
                tables.user_domain, tables.mcc, tables.token
            );
        }
        Command::AddDomain {
            user_domain,
            secret,
        } => {
            let secret = admin()?
                .add_domain(&user_domain, secret)
                .await
                .map_err(failed)?;
            println!("{secret}");
        }
        Command::DisableDomain { user_domain } => admin()?
            .set_enabled(&user_domain, false)
            .await
            .map_err(failed)?,
        Command::EnableDomain { user_domain } => admin()?
            .set_enabled(&user_domain, true)
            .await
            .map_err(failed)?,
        Command::AddApp {
            user_domain,
            app_id,
            consumer_key,
            consumer_secret,
        } => admin()?
            .add_twitter_app(&user_domain, &app_id, &consumer_key, &consumer_secret)
            .await
            .map_err(failed)?,
        Command::RemoveApp {
            user_domain,
            app_id,
        } => admin()?
            .remove_app(&user_domain, &app_id)
            .await
            .map_err(failed)?,
        Command::SetMcc { mcc, data_center } => admin()?
            .set_mcc_route(mcc, &data_center)
            .await
            .map_err(failed)?,
        Command::RemoveMcc { mcc } => admin()?.remove_mcc_route(mcc).await.map_err(failed)?,
        Command::ShowDomain {
            user_domain,
            show_secrets,
        } => {
            let view = admin()?
                .show_domain(&user_domain, show_secrets)
                .await
                .map_err(failed)?;
            let apps: Vec<serde_json::Value> = view
                .apps
                .iter()
                .map(|app| {
                    let mut json = serde_json::json!({
                        "appId": app.app_id, "platform": app.platform, "consumerKey": app.consumer_key,
                    });
                    if let Some(secret) = &app.consumer_secret {
                        json["consumerSecret"] = secret.clone().into();
                    }
                    json
                })
                .collect();
            let mut json = serde_json::json!({"userDomain": view.user_domain, "enabled": view.enabled, "apps": apps});
            if let Some(secret) = &view.secret {
                json["userDomainSecret"] = secret.clone().into();
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?
            );
        }
    }
    Ok(())
}
