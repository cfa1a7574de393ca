//! Every sample event in `events/` (for `sam local invoke -e` and `cargo lambda invoke
//! --data-file`) goes through its function against the demo data, so the files never rot.

use serde_json::Value;
use testkit::prelude::*;
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::user::uid_for;
use twitter_auth_login::endpoints::authorizer::UNAUTHORIZED;

/// The function each event file is for, and the outcome it is meant to show. A new file must
/// be added here.
fn expected(file_name: &str) -> (&'static str, u64) {
    match file_name {
        "login-rest-success.json" | "login-http-api-success.json" => ("login", 200),
        "login-missing-parameter.json" => ("login", 5550),
        "login-bad-signature.json" => ("login", 5420),
        "login-unknown-domain.json" => ("login", 5015),
        "refresh-unknown-token.json" => ("refresh", 5032),
        "logout-missing-token.json" => ("logout", 5106),
        "user-info.json" => ("userInfo", 200),
        "authorizer-unknown-token.json" => ("authorizer", 401),
        other => panic!("events/{other} has no expected outcome in tests/api/events.rs"),
    }
}

#[tokio::test]
async fn every_sample_event_answers_as_intended() {
    let world = World::demo().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("events/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    // Logins first, so that the user the userInfo event names exists.
    files.sort_by_key(|path| !path.to_string_lossy().contains("/login-"));
    assert!(files.len() >= 9, "events/ lost files: {files:?}");

    let mut logins = 0;
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let event = std::fs::read_to_string(&path).expect("read event");
        let (function, code) = expected(&name);
        if function == "authorizer" {
            let json: Value = serde_json::from_str(&event).expect("json");
            let error = authorize(&world.authorizer(), json)
                .await
                .expect_err("refused");
            assert_eq!(error.error_message, UNAUTHORIZED, "{name}");
            continue;
        }
        let (status, body) = match function {
            "login" => call(&world.login(), &event).await,
            "refresh" => call(&world.refresh(), &event).await,
            "logout" => call(&world.logout(), &event).await,
            _ => call(&world.user_info(), &event).await,
        };
        assert_eq!(body["code"].as_u64(), Some(code), "{name}: {body}");
        assert_eq!(status, 200, "{name}");
        assert_eq!(body["data"].is_null(), code != 200, "{name}");
        if function == "login" && code == 200 {
            logins += 1;
            Tokens::from_answer(status, &body);
        }
        if function == "userInfo" {
            let demo = &world.seed;
            assert_eq!(
                body["data"]["uid"],
                uid_for(&demo.user_domain, &demo.twitter_user_id),
                "{name} names the demo user"
            );
        }
    }
    assert_eq!(logins, 2);
    assert_eq!(world.items(Table::Token).await.len(), 2 * logins);
    assert_eq!(world.twitter.verified(), logins);
}
