//! The admin CLI, run as a process against a real DynamoDB API (moto on loopback).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, BillingMode, TimeToLiveStatus};
use serde_json::{Value, json};
use testkit::prelude::{
    PATIENT, World, call, dynamodb_client, list_sessions_event, moto_endpoint, table_names,
};
use twitter_auth_login::config::{Table, TableNames};
use twitter_auth_login::domain::token::random_hex;

const CLI: &str = env!("CARGO_BIN_EXE_twitter-auth-admin");

/// Each table as template.yaml defines it: key schema (name, type, HASH | RANGE), TTL, and
/// its local index (name, sort key (name, type), attributes it projects beside the keys).
struct Expected {
    table: Table,
    flag: &'static str,
    keys: &'static [(&'static str, &'static str, &'static str)],
    ttl: Option<&'static str>,
    index: Option<LocalIndex>,
}

type LocalIndex = (
    &'static str,
    (&'static str, &'static str),
    &'static [&'static str],
);

/// An index as described: name, key schema, projection type, projected attributes.
type IndexShape = (String, Vec<(String, String)>, String, Vec<String>);

const EXPECTED: [Expected; 5] = [
    Expected {
        table: Table::UserDomain,
        flag: "--user-domain-table",
        keys: &[("userDomain", "S", "HASH")],
        ttl: None,
        index: None,
    },
    Expected {
        table: Table::Mcc,
        flag: "--mcc-table",
        keys: &[("mcc", "N", "HASH")],
        ttl: None,
        index: None,
    },
    Expected {
        table: Table::Token,
        flag: "--token-table",
        keys: &[("tokenHash", "S", "HASH")],
        ttl: Some("expirationTime"),
        index: None,
    },
    Expected {
        table: Table::Session,
        flag: "--session-table",
        keys: &[("uid", "S", "HASH"), ("sessionId", "S", "RANGE")],
        ttl: Some("expirationTime"),
        index: Some((
            "ActiveSessions",
            ("activeSince", "N"),
            &[
                "appId",
                "createdAt",
                "lastUsedAt",
                "userAgent",
                "expirationTime",
                "status",
            ],
        )),
    },
    Expected {
        table: Table::User,
        flag: "--user-table",
        keys: &[("uid", "S", "HASH")],
        ttl: None,
        index: None,
    },
];

const VARIABLES: [&str; 5] = [
    "USER_DOMAIN_TABLE",
    "MCC_TABLE",
    "TOKEN_TABLE",
    "SESSION_TABLE",
    "USER_TABLE",
];

struct Cli {
    endpoint: String,
    client: Client,
    /// Fresh names for all five tables; which of them a run names is up to the test.
    tables: TableNames,
}

impl Cli {
    fn new() -> Cli {
        let endpoint = moto_endpoint();
        Cli {
            client: dynamodb_client(&endpoint, PATIENT),
            endpoint,
            tables: table_names(&random_hex::<6>().expect("random")),
        }
    }

    fn name(&self, table: Table) -> &str {
        self.tables.get(table).expect("named")
    }

    /// Runs the CLI with `env` as its only table and secret variables, and nothing on its
    /// standard input.
    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_fed(args, env, "")
    }

    /// Runs the CLI with `env` as its only table and secret variables, and `input` on its
    /// standard input (a pipe, not a terminal).
    fn run_fed(&self, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
        let mut command = Command::new(CLI);
        command
            .args(["--endpoint-url", &self.endpoint])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
            .env_remove("USER_DOMAIN_SECRET")
            .env_remove("TWITTER_CONSUMER_SECRET");
        for name in VARIABLES {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run twitter-auth-admin");
        if let Some(mut stdin) = child.stdin.take() {
            // A command that reads nothing may exit before taking its input.
            let _ = stdin.write_all(input.as_bytes());
        }
        child
            .wait_with_output()
            .expect("twitter-auth-admin's output")
    }

    /// Runs the CLI with every table named and `input` on its standard input; it must succeed.
    fn fed(&self, args: &[&str], extra_env: &[(&str, &str)], input: &str) -> String {
        let mut env: Vec<(&str, &str)> = Table::ALL
            .iter()
            .map(|t| (t.variable(), self.name(*t)))
            .collect();
        env.extend_from_slice(extra_env);
        succeeded(args, self.run_fed(args, &env, input))
    }

    /// Runs the CLI with every table named by its variable, plus `extra_env`.
    fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut env: Vec<(&str, &str)> = Table::ALL
            .iter()
            .map(|t| (t.variable(), self.name(*t)))
            .collect();
        env.extend_from_slice(extra_env);
        self.run_with(args, &env)
    }

    fn ok(&self, args: &[&str], extra_env: &[(&str, &str)]) -> String {
        succeeded(args, self.run(args, extra_env))
    }

    fn fails(&self, args: &[&str]) -> String {
        failed(args, self.run(args, &[]))
    }

    fn show(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args, &[])).expect("show-domain prints JSON")
    }

    /// Whether a table of this name exists.
    async fn exists(&self, name: &str) -> bool {
        match self.client.describe_table().table_name(name).send().await {
            Ok(_) => true,
            Err(error) => {
                let service = error.into_service_error();
                assert!(service.is_resource_not_found_exception(), "{service:?}");
                false
            }
        }
    }

    /// The table is there exactly as the template defines it.
    async fn assert_as_in_template(&self, name: &str, expected: &Expected) {
        let table = self
            .client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"))
            .table
            .expect("table description");
        let keys: Vec<(String, String)> = table
            .key_schema()
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect();
        let expected_keys: Vec<(String, String)> = expected
            .keys
            .iter()
            .map(|(n, _, k)| ((*n).to_owned(), (*k).to_owned()))
            .collect();
        assert_eq!(keys, expected_keys, "{name}: key schema");
        let mut attributes: Vec<(String, String)> = table
            .attribute_definitions()
            .iter()
            .map(|a| {
                (
                    a.attribute_name().to_owned(),
                    a.attribute_type().as_str().to_owned(),
                )
            })
            .collect();
        attributes.sort();
        let mut expected_attributes: Vec<(String, String)> = expected
            .keys
            .iter()
            .map(|(n, t, _)| ((*n).to_owned(), (*t).to_owned()))
            .chain(
                expected
                    .index
                    .map(|(_, (n, t), _)| (n.to_owned(), t.to_owned())),
            )
            .collect();
        expected_attributes.sort();
        expected_attributes.dedup();
        assert_eq!(attributes, expected_attributes, "{name}: attributes");
        let indexes: Vec<IndexShape> = table
            .local_secondary_indexes()
            .iter()
            .map(|index| {
                let projection = index.projection();
                (
                    index.index_name().unwrap_or_default().to_owned(),
                    index
                        .key_schema()
                        .iter()
                        .map(|k| {
                            (
                                k.attribute_name().to_owned(),
                                k.key_type().as_str().to_owned(),
                            )
                        })
                        .collect(),
                    projection
                        .and_then(|p| p.projection_type())
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    projection
                        .map(|p| p.non_key_attributes().to_vec())
                        .unwrap_or_default(),
                )
            })
            .collect();
        let expected_indexes: Vec<IndexShape> = expected
            .index
            .into_iter()
            .map(|(index, (sort_key, _), projected)| {
                (
                    index.to_owned(),
                    vec![
                        (expected.keys[0].0.to_owned(), "HASH".to_owned()),
                        (sort_key.to_owned(), "RANGE".to_owned()),
                    ],
                    "INCLUDE".to_owned(),
                    projected.iter().map(|a| (*a).to_owned()).collect(),
                )
            })
            .collect();
        assert_eq!(indexes, expected_indexes, "{name}: local indexes");
        assert_eq!(
            table.billing_mode_summary().and_then(|b| b.billing_mode()),
            Some(&BillingMode::PayPerRequest),
            "{name}: on demand"
        );

        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .expect("describe ttl")
            .time_to_live_description
            .expect("ttl description");
        match expected.ttl {
            Some(attribute) => {
                assert_eq!(
                    ttl.attribute_name(),
                    Some(attribute),
                    "{name}: TTL attribute"
                );
                assert_eq!(
                    ttl.time_to_live_status(),
                    Some(&TimeToLiveStatus::Enabled),
                    "{name}: TTL"
                );
            }
            None => assert_ne!(
                ttl.time_to_live_status(),
                Some(&TimeToLiveStatus::Enabled),
                "{name}: no TTL"
            ),
        }
    }
}

/// The table names (those with this run's prefix) that create-tables reports creating.
fn reported(cli: &Cli, stdout: &str) -> Vec<String> {
    let prefix = cli
        .name(Table::UserDomain)
        .split('-')
        .next()
        .expect("prefix");
    let mut names: Vec<String> = stdout
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| word.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names
}

#[track_caller]
fn succeeded(args: &[&str], output: Output) -> String {
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[track_caller]
fn failed(args: &[&str], output: Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{args:?} should fail");
    assert!(output.stdout.is_empty(), "{args:?} printed on failure");
    String::from_utf8(output.stderr).expect("utf-8")
}

#[tokio::test]
async fn create_tables_creates_all_five_as_the_template_defines_them() {
    let cli = Cli::new();
    let printed = cli.ok(&["create-tables"], &[]);
    let names: Vec<&str> = Table::ALL.iter().map(|t| cli.name(*t)).collect();
    assert_eq!(reported(&cli, &printed), sorted(&names), "{printed}");
    for expected in &EXPECTED {
        cli.assert_as_in_template(cli.name(expected.table), expected)
            .await;
    }

    // Tables that exist already are not created over.
    let stderr = cli.fails(&["create-tables"]);
    assert!(
        stderr.contains(cli.name(Table::UserDomain)) && stderr.contains("already exists"),
        "{stderr}"
    );
}

#[tokio::test]
async fn create_tables_creates_only_the_tables_named_by_flag_or_variable() {
    let cli = Cli::new();
    let session = cli.name(Table::Session);
    let user = cli.name(Table::User);
    let token = cli.name(Table::Token);
    let overridden = format!("{token}-by-flag");
    // SESSION_TABLE by variable, the user table by flag, and a flag over a variable.
    let args = [
        "create-tables",
        "--user-table",
        user,
        "--token-table",
        &overridden,
    ];
    let printed = succeeded(
        &args,
        cli.run_with(&args, &[("SESSION_TABLE", session), ("TOKEN_TABLE", token)]),
    );
    assert_eq!(
        reported(&cli, &printed),
        sorted(&[&overridden, session, user]),
        "{printed}"
    );
    cli.assert_as_in_template(session, &EXPECTED[3]).await;
    cli.assert_as_in_template(user, &EXPECTED[4]).await;
    cli.assert_as_in_template(&overridden, &EXPECTED[2]).await;
    for table in [Table::UserDomain, Table::Mcc, Table::Token] {
        assert!(!cli.exists(cli.name(table)).await, "{table:?} was created");
    }

    // Each flag names its own table.
    for expected in &EXPECTED {
        let name = format!("{}-flag", cli.name(expected.table));
        let args = ["create-tables", expected.flag, &name];
        let printed = succeeded(&args, cli.run_with(&args, &[]));
        assert_eq!(reported(&cli, &printed), sorted(&[&name]), "{printed}");
        cli.assert_as_in_template(&name, expected).await;
    }
}

#[tokio::test]
async fn create_tables_refuses_when_no_table_is_named() {
    let cli = Cli::new();
    let blank: Vec<(&str, &str)> = VARIABLES.iter().map(|v| (*v, "")).collect();
    for env in [&[][..], &blank[..]] {
        let stderr = failed(&["create-tables"], cli.run_with(&["create-tables"], env));
        // The refusal says what to set.
        for variable in VARIABLES {
            assert!(stderr.contains(variable), "{stderr}");
        }
    }
    for table in Table::ALL {
        assert!(!cli.exists(cli.name(table)).await, "{table:?} was created");
    }
}

#[tokio::test]
async fn provisions_a_domain_end_to_end() {
    let cli = Cli::new();
    cli.ok(&["create-tables"], &[]);

    let secret = cli
        .ok(&["add-domain", "C.DM.5903.1"], &[])
        .trim()
        .to_owned();
    assert_eq!(secret.len(), 64, "a 256-bit hex secret");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        cli.fails(&["add-domain", "C.DM.5903.1"])
            .contains("user domain C.DM.5903.1 already exists")
    );
    assert!(
        cli.fails(&["add-domain", "not-a-domain"])
            .contains("not a user domain")
    );

    cli.fed(
        &["add-app", "C.DM.5903.1", "tw-1", "--consumer-key", "ck-1"],
        &[],
        "cs-1\n",
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
    let args = ["add-app", "C.DM.404", "tw-1", "--consumer-key", "ck-1"];
    let env: Vec<(&str, &str)> = Table::ALL
        .iter()
        .map(|t| (t.variable(), cli.name(*t)))
        .collect();
    assert!(
        failed(&args, cli.run_fed(&args, &env, "cs-1\n"))
            .contains("user domain C.DM.404 does not exist")
    );
    // Without a secret on its input, add-app refuses rather than store an empty one.
    let args = ["add-app", "C.DM.5903.1", "tw-2", "--consumer-key", "ck-2"];
    assert!(failed(&args, cli.run_fed(&args, &env, "")).contains("no secret on standard input"));

    cli.ok(&["disable-domain", "C.DM.5903.1"], &[]);
    assert_eq!(cli.show(&["show-domain", "C.DM.5903.1"])["enabled"], false);
    cli.ok(&["enable-domain", "C.DM.5903.1"], &[]);
    assert_eq!(cli.show(&["show-domain", "C.DM.5903.1"])["enabled"], true);
    assert!(
        cli.fails(&["disable-domain", "C.DM.404"])
            .contains("user domain C.DM.404 does not exist")
    );
    assert!(
        cli.fails(&["show-domain", "C.DM.404"])
            .contains("user domain C.DM.404 does not exist")
    );

    cli.ok(&["remove-app", "C.DM.5903.1", "tw-1"], &[]);
    assert_eq!(cli.show(&["show-domain", "C.DM.5903.1"])["apps"], json!([]));
    assert!(
        cli.fails(&["remove-app", "C.DM.5903.1", "tw-1"])
            .contains("C.DM.5903.1 has no app tw-1")
    );

    cli.ok(&["set-mcc", "460", "dc-cn"], &[]);
    cli.ok(&["set-mcc", "-1", "dc-x"], &[]);
    let route = |mcc: &'static str| {
        let client = cli.client.clone();
        let table = cli.name(Table::Mcc).to_owned();
        async move {
            client
                .get_item()
                .table_name(table)
                .key("mcc", AttributeValue::N(mcc.into()))
                .consistent_read(true)
                .send()
                .await
                .expect("get route")
                .item
        }
    };
    assert_eq!(
        route("460").await.expect("route stored")["dataCenter"],
        AttributeValue::S("dc-cn".into())
    );
    assert_eq!(
        route("-1").await.expect("route stored")["dataCenter"],
        AttributeValue::S("dc-x".into())
    );
    cli.ok(&["remove-mcc", "460"], &[]);
    assert_eq!(route("460").await, None);
    assert!(
        cli.fails(&["remove-mcc", "460"])
            .contains("no route for MCC 460")
    );
}

#[tokio::test]
async fn a_given_secret_is_used_and_a_missing_table_name_is_named() {
    let cli = Cli::new();
    cli.ok(&["create-tables"], &[]);
    let printed = cli.fed(
        &["add-domain", "E.DM.1209906967672817.3", "--secret-stdin"],
        &[],
        "a-given-secret-of-enough-length\n",
    );
    assert_eq!(printed.trim(), "a-given-secret-of-enough-length");
    assert_eq!(
        cli.show(&["show-domain", "E.DM.1209906967672817.3", "--show-secrets"])["userDomainSecret"],
        "a-given-secret-of-enough-length"
    );
    let args = ["add-domain", "E.DM.1.3", "--secret-stdin"];
    let env: Vec<(&str, &str)> = Table::ALL
        .iter()
        .map(|t| (t.variable(), cli.name(*t)))
        .collect();
    assert!(failed(&args, cli.run_fed(&args, &env, "short\n")).contains("at least 16"));
    // A secret left in the shell is never taken: each domain gets its own.
    let left_over = [("USER_DOMAIN_SECRET", "a-given-secret-of-enough-length")];
    let generated = cli.ok(&["add-domain", "E.DM.2.3"], &left_over);
    assert_ne!(generated.trim(), "a-given-secret-of-enough-length");
    assert_eq!(generated.trim().len(), 64, "a fresh 256-bit hex secret");
    // Flags that would put a secret in `ps` and shell history are gone.
    let args = [
        "add-domain",
        "E.DM.3.3",
        "--secret",
        "a-given-secret-of-enough-length",
    ];
    assert_eq!(
        cli.run_with(&args, &env).status.code(),
        Some(2),
        "clap refuses it"
    );

    // Each command needs only its own table, and says which variable or flag is missing.
    let domain_args = ["show-domain", "E.DM.1209906967672817.3"];
    let stderr = failed(&domain_args, cli.run_with(&domain_args, &[]));
    assert!(
        stderr.contains("set USER_DOMAIN_TABLE or --user-domain-table"),
        "{stderr}"
    );
    let only_domain = [("USER_DOMAIN_TABLE", cli.name(Table::UserDomain))];
    let shown = succeeded(&domain_args, cli.run_with(&domain_args, &only_domain));
    assert!(shown.contains("E.DM.1209906967672817.3"), "{shown}");

    let mcc_args = ["set-mcc", "262", "dc-eu"];
    let stderr = failed(&mcc_args, cli.run_with(&mcc_args, &only_domain));
    assert!(stderr.contains("set MCC_TABLE or --mcc-table"), "{stderr}");
    let by_flag = [
        "set-mcc",
        "262",
        "dc-eu",
        "--mcc-table",
        cli.name(Table::Mcc),
    ];
    succeeded(&by_flag, cli.run_with(&by_flag, &[]));
}

impl Cli {
    /// The CLI on a world's tables, where the functions have signed users in.
    fn on(world: &World) -> Cli {
        Cli {
            endpoint: world.endpoint.clone(),
            client: world.client.clone(),
            tables: world.tables.clone(),
        }
    }
}

/// The lines an error printed.
fn lines(stderr: &str) -> Vec<&str> {
    stderr.lines().collect()
}

#[tokio::test]
async fn users_and_sessions_are_shown_and_revoked() {
    let world = World::new().await;
    let cli = Cli::on(&world);
    let first = world.sign_in().await;
    world.clock.advance(60);
    let second = world.sign_in().await;
    let uid = first.uid.as_str();

    let user = cli.show(&["show-user", uid]);
    assert_eq!(
        user,
        json!({
            "uid": uid,
            "userDomain": testkit::world::DOMAIN,
            "twitterUserId": testkit::world::TWITTER_USER_ID,
            "twitterUsername": testkit::world::TWITTER_USERNAME,
            "registerTime": world.clock.get() - 60,
            "lastLoginTime": world.clock.get(),
            "status": 1
        })
    );
    // By account: the uid is keyed with the stack's derivation secret, which the CLI reads.
    let by_account = [
        "show-user",
        "--user-domain",
        testkit::world::DOMAIN,
        "--twitter-user-id",
        testkit::world::TWITTER_USER_ID,
    ];
    let shown = cli.ok(
        &by_account,
        &[("DERIVATION_KEY_SECRET", &world.keys.derivation_secret)],
    );
    assert_eq!(serde_json::from_str::<Value>(&shown).expect("json"), user);
    assert!(
        cli.fails(&by_account)
            .contains("set DERIVATION_KEY_SECRET or --derivation-key-secret")
    );

    let sessions = cli.show(&["list-sessions", uid]);
    let listed: Vec<(&str, &str)> = sessions
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| {
            (
                s["sessionId"].as_str().expect("id"),
                s["status"].as_str().expect("status"),
            )
        })
        .collect();
    let (first_id, second_id) = (first.session_id(), second.session_id());
    assert_eq!(
        listed,
        [
            (second_id.as_str(), "active"),
            (first_id.as_str(), "active")
        ],
        "newest first"
    );
    for session in sessions.as_array().expect("a list") {
        let mut keys: Vec<&str> = session
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        // What the end user's own listing shows, and the state; never a token hash.
        assert_eq!(
            keys,
            [
                "appId",
                "createdAt",
                "expirationTime",
                "lastUsedAt",
                "refreshedAt",
                "revokedReason",
                "sessionId",
                "status",
                "userAgent"
            ]
        );
        assert_eq!(session["userAgent"], "testkit");
        assert_eq!(session["lastUsedAt"], session["createdAt"]);
    }

    let said = cli.ok(&["revoke-session", uid, &first_id], &[]);
    assert_eq!(said.trim(), format!("revoked session {first_id} of {uid}"));
    let decision = world
        .authorizer()
        .decide(Some(&first.access))
        .await
        .expect("decided");
    assert_eq!(
        decision,
        twitter_auth_login::endpoints::authorizer::Decision::Unauthorized
    );
    let sessions = cli.show(&["list-sessions", uid]);
    assert_eq!(sessions[1]["status"], "revoked");
    assert_eq!(sessions[1]["revokedReason"], "operator");
    // Gone from the end user's own listing too.
    let own = list_sessions_event(uid, &second_id, None);
    let (_, listed) = call(&world.list_sessions(), &own).await;
    let ids: Vec<&Value> = listed["data"]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| &s["sessionId"])
        .collect();
    assert_eq!(ids, [&json!(second_id)]);

    let again = cli.fails(&["revoke-session", uid, &first_id]);
    assert_eq!(
        lines(&again),
        [format!("error: user {uid} has no active session {first_id}").as_str()]
    );
    let said = cli.ok(&["revoke-all-sessions", uid], &[]);
    assert_eq!(said.trim(), format!("revoked 1 sessions of {uid}"));
    let said = cli.ok(&["revoke-all-sessions", uid], &[]);
    assert_eq!(said.trim(), format!("revoked 0 sessions of {uid}"));
    assert_eq!(
        cli.show(&["list-sessions", uid])
            .as_array()
            .expect("a list")
            .iter()
            .filter(|s| s["status"] == "active")
            .count(),
        0
    );

    let nobody = cli.fails(&["show-user", "nobody"]);
    let users = cli.name(Table::User).to_owned();
    assert_eq!(
        lines(&nobody),
        [format!("error: no user nobody in table {users}").as_str()]
    );
}

#[tokio::test]
async fn each_error_is_one_line_that_names_the_fix() {
    let cli = Cli::new();
    let endpoint = cli.endpoint.clone();
    let hint = "(--verbose shows the AWS SDK's account of it)";

    // A table that was never created.
    let missing = cli.fails(&["show-domain", "C.DM.1"]);
    let domains = cli.name(Table::UserDomain).to_owned();
    assert_eq!(
        lines(&missing),
        [
            format!("error: table {domains} does not exist at {endpoint}: run create-tables first")
                .as_str(),
            hint
        ]
    );
    // With --verbose, the SDK's account follows on its own line.
    let verbose = failed(&[], cli.run(&["--verbose", "show-domain", "C.DM.1"], &[]));
    let verbose = lines(&verbose);
    assert_eq!(verbose.len(), 2, "{verbose:?}");
    assert!(verbose[1].starts_with("cause: ") && verbose[1].contains("ResourceNotFoundException"));

    // Nothing listening at the endpoint.
    let refused = format!("http://{}", testkit::server::refused_addr().expect("port"));
    let mut command = Command::new(CLI);
    command
        .args([
            "--endpoint-url",
            &refused,
            "--user-table",
            "users",
            "show-user",
            "x",
        ])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1");
    let unreachable = failed(&[], command.output().expect("run"));
    assert_eq!(
        lines(&unreachable),
        [
            format!(
                "error: cannot reach DynamoDB at {refused}: is it running, and is the URL right?"
            )
            .as_str(),
            hint
        ]
    );

    // No credentials anywhere, and no region.
    let bare = |env: &[(&str, &str)]| {
        let mut command = Command::new(CLI);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", "/nonexistent")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args([
                "--endpoint-url",
                &endpoint,
                "--user-table",
                "users",
                "show-user",
                "x",
            ]);
        for (name, value) in env {
            command.env(name, value);
        }
        failed(&[], command.output().expect("run"))
    };
    let no_credentials = bare(&[("AWS_REGION", "us-east-1")]);
    assert_eq!(
        lines(&no_credentials),
        [
            "error: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
             AWS_PROFILE (any values do for a local DynamoDB)",
            hint
        ]
    );
    let no_region = bare(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")]);
    assert_eq!(
        lines(&no_region),
        ["error: no AWS region: set AWS_REGION (any region does for a local DynamoDB)"]
    );

    // A table the command needs, not named.
    let unnamed = failed(&[], cli.run_with(&["list-sessions", "x"], &[]));
    assert_eq!(
        lines(&unnamed),
        ["error: set SESSION_TABLE or --session-table"]
    );

    // A table created twice.
    cli.ok(&["create-tables"], &[]);
    let twice = cli.fails(&["create-tables"]);
    assert_eq!(
        lines(&twice)[0],
        format!("error: table {domains} already exists at {endpoint}")
    );
}
