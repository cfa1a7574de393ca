//! Metric records: one CloudWatch Embedded Metric Format line per request per function, read
//! back from the log output. In a test binary of its own, because it installs the global
//! subscriber the functions log through.

use serde_json::Value;
use testkit::capture::Captured;
use testkit::events::{USER_INFO_ROUTE, authorizer_event, rest_event};
use testkit::prelude::*;
use twitter_auth_login::logging;

/// The EMF records among what was written.
fn records(captured: &Captured) -> Vec<Value> {
    captured
        .text()
        .lines()
        .filter(|line| line.contains("\"_aws\""))
        .map(|line| serde_json::from_str(line).expect("a record is one JSON object"))
        .collect()
}

#[tokio::test]
async fn every_request_writes_one_record_with_its_figures() {
    let capture = Captured::default();
    // At WARN the functions' own info lines are off; the records must still be written.
    tracing::subscriber::set_global_default(logging::subscriber("warn", true, capture.clone()))
        .expect("first subscriber");

    let world = World::new().await;
    let (status, body) = call(&world.login(), &rest_event(&world.login_params())).await;
    let login = Tokens::from_answer(status, &body);
    let (status, body) = call(&world.refresh(), &refresh_event(&login.refresh)).await;
    let refreshed = Tokens::from_answer(status, &body);
    world.clock.advance(world.refresh_reuse_grace);
    let (_, reused) = call(&world.refresh(), &refresh_event(&login.refresh)).await;
    assert_eq!(reused["extMsg"], "reused");
    call(&world.user_info(), &user_info_event(&login.uid)).await;
    let event = authorizer_event(
        "GET",
        USER_INFO_ROUTE,
        &[("Authorization", &refreshed.access)],
    );
    authorize(&world.authorizer(), event)
        .await
        .expect_err("revoked by the reuse");
    call(&world.logout(), &logout_event(None, None)).await;
    call(&world.login(), &rest_event::<&str, &str>(&[])).await;

    let records = records(&capture);
    let summary: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["Operation"].as_str().unwrap_or_default().to_owned(),
                r["Outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("twitterAuthLogin", "200"),
        ("refreshToken", "200"),
        ("refreshToken", "5032"),
        ("userInfo", "200"),
        ("tokenAuthorizer", "unauthorized"),
        ("userLogout", "5106"),
        ("twitterAuthLogin", "5023"),
    ]
    .iter()
    .map(|(o, c)| ((*o).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(summary, expected, "one record per request, in order");

    for record in &records {
        let directive = &record["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "TwitterAuthLogin");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["Operation"], ["Operation", "Outcome"]])
        );
        assert!(
            record["_aws"]["Timestamp"]
                .as_u64()
                .is_some_and(|t| t > 1_700_000_000_000)
        );
        assert_eq!(record["Requests"], 1);
        for metric in ["Latency", "DynamoDbTime", "TwitterTime"] {
            assert!(
                record[metric].as_f64().is_some_and(|v| v >= 0.0),
                "{metric}: {record}"
            );
        }
        assert!(
            record["Latency"].as_f64() >= record["DynamoDbTime"].as_f64(),
            "{record}"
        );
    }
    let by = |i: usize| &records[i];
    // The login waited on both dependencies; the checks that fail first on neither.
    assert!(by(0)["DynamoDbTime"].as_f64() > Some(0.0));
    assert!(by(0)["TwitterTime"].as_f64() > Some(0.0));
    assert_eq!(by(1)["TwitterTime"], 0.0);
    assert!(by(1)["DynamoDbTime"].as_f64() > Some(0.0));
    assert_eq!(by(6)["DynamoDbTime"], 0.0);
    // Only the reuse counts as one.
    let reuses: Vec<u64> = records
        .iter()
        .map(|r| r["ReuseDetections"].as_u64().expect("a count"))
        .collect();
    assert_eq!(reuses, [0, 0, 1, 0, 0, 0, 0]);
    // Records carry no token.
    for record in &records {
        let text = record.to_string();
        assert!(!text.contains(&login.refresh) && !text.contains(&refreshed.access));
    }
}
