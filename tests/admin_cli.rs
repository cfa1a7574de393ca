//! The admin CLI, run as a process against a real DynamoDB API (moto on loopback).

mod common;

use std::process::{Command, Output};

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use common::{dynamodb_client, moto_endpoint};
use serde_json::{Value, json};
use twitter_auth_login::dynamo::Limits;
use twitter_auth_login::token::random_hex;

struct Cli {
    endpoint: String,
    tables: [(&'static str, String); 3],
}

impl Cli {
    fn new() -> Cli {
        let prefix = random_hex::<6>().expect("random");
        Cli {
            endpoint: moto_endpoint(),
            tables: [
                ("USER_DOMAIN_TABLE", format!("{prefix}-domains")),
                ("MCC_TABLE", format!("{prefix}-mcc")),
                ("TOKEN_TABLE", format!("{prefix}-tokens")),
            ],
        }
    }

    fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_twitter-auth-admin"));
        command
            .args(["--endpoint-url", &self.endpoint])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env_remove("USER_DOMAIN_SECRET")
            .env_remove("TWITTER_CONSUMER_SECRET");
        for (name, value) in &self.tables {
            command.env(name, value);
        }
        for (name, value) in extra_env {
            command.env(name, value);
        }
        command.output().expect("run twitter-auth-admin")
    }

    fn ok(&self, args: &[&str], extra_env: &[(&str, &str)]) -> String {
        let output = self.run(args, extra_env);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args, &[]);
        assert_eq!(output.status.code(), Some(1), "{args:?} should fail");
        String::from_utf8(output.stderr).expect("utf-8")
    }

    fn show(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args, &[])).expect("show-domain prints JSON")
    }
}

#[tokio::test]
async fn provisions_a_domain_end_to_end() {
    let cli = Cli::new();
    cli.ok(&["create-tables"], &[]);
    let client = dynamodb_client(&cli.endpoint, Limits::default());
    let ttl = client
        .describe_time_to_live()
        .table_name(&cli.tables[2].1)
        .send()
        .await
        .expect("ttl");
    let ttl = ttl.time_to_live_description.expect("ttl description");
    assert_eq!(ttl.attribute_name(), Some("expirationTime"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));

    let secret = cli
        .ok(&["add-domain", "C.DM.5903.1"], &[])
        .trim()
        .to_owned();
    assert_eq!(secret.len(), 64, "a 256-bit hex secret");
    assert!(
        cli.fails(&["add-domain", "C.DM.5903.1"])
            .contains("already exists")
    );
    assert!(
        cli.fails(&["add-domain", "not-a-domain"])
            .contains("not a user domain")
    );

    cli.ok(
        &["add-app", "C.DM.5903.1", "tw-1", "--consumer-key", "ck-1"],
        &[("TWITTER_CONSUMER_SECRET", "cs-1")],
    );
    assert_eq!(
        cli.show(&["show-domain", "C.DM.5903.1"]),
        json!({"userDomain": "C.DM.5903.1", "enabled": true,
               "apps": [{"appId": "tw-1", "platform": "twitter", "consumerKey": "ck-1"}]})
    );
    let shown = cli.ok(&["show-domain", "C.DM.5903.1"], &[]);
    assert!(
        !shown.contains(&secret) && !shown.contains("cs-1"),
        "secrets shown unasked"
    );
    assert_eq!(
        cli.show(&["show-domain", "C.DM.5903.1", "--show-secrets"]),
        json!({"userDomain": "C.DM.5903.1", "enabled": true, "userDomainSecret": secret,
               "apps": [{"appId": "tw-1", "platform": "twitter", "consumerKey": "ck-1", "consumerSecret": "cs-1"}]})
    );

    cli.ok(&["disable-domain", "C.DM.5903.1"], &[]);
    assert_eq!(cli.show(&["show-domain", "C.DM.5903.1"])["enabled"], false);
    cli.ok(&["enable-domain", "C.DM.5903.1"], &[]);
    assert_eq!(cli.show(&["show-domain", "C.DM.5903.1"])["enabled"], true);
    assert!(
        cli.fails(&["disable-domain", "C.DM.404"])
            .contains("does not exist")
    );

    cli.ok(&["remove-app", "C.DM.5903.1", "tw-1"], &[]);
    assert_eq!(cli.show(&["show-domain", "C.DM.5903.1"])["apps"], json!([]));
    assert!(
        cli.fails(&["remove-app", "C.DM.5903.1", "tw-1"])
            .contains("has no app")
    );

    cli.ok(&["set-mcc", "460", "dc-cn"], &[]);
    cli.ok(&["set-mcc", "-1", "dc-x"], &[]);
    let route = client
        .get_item()
        .table_name(&cli.tables[1].1)
        .key("mcc", AttributeValue::N("460".into()))
        .send()
        .await
        .expect("get route")
        .item
        .expect("route stored");
    assert_eq!(route["dataCenter"], AttributeValue::S("dc-cn".into()));
    cli.ok(&["remove-mcc", "460"], &[]);
    assert!(cli.fails(&["remove-mcc", "460"]).contains("no route"));
}

#[tokio::test]
async fn a_given_secret_is_used_and_table_names_are_required() {
    let cli = Cli::new();
    cli.ok(&["create-tables"], &[]);
    let printed = cli.ok(
        &["add-domain", "E.DM.1209906967672817.3"],
        &[("USER_DOMAIN_SECRET", "a-given-secret-of-enough-length")],
    );
    assert_eq!(printed.trim(), "a-given-secret-of-enough-length");
    assert!(
        cli.fails(&["add-domain", "E.DM.1.3", "--secret", "short"])
            .contains("at least 16")
    );

    let mut bare = Command::new(env!("CARGO_BIN_EXE_twitter-auth-admin"));
    let output = bare
        .args(["--endpoint-url", &cli.endpoint, "show-domain", "C.DM.1"])
        .env_remove("USER_DOMAIN_TABLE")
        .env_remove("MCC_TABLE")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("USER_DOMAIN_TABLE"));
}
