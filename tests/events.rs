//! Every sample event in `events/` (for `sam local invoke -e` and `cargo lambda invoke
//! --data-file`) goes through the handler against the demo data, so the files never rot.

mod common;

use common::*;

/// The outcome each event file is meant to show. A new file must be added here.
fn expected_code(file_name: &str) -> u64 {
    match file_name {
        "rest-success.json" | "http-api-success.json" => 200,
        "missing-parameter.json" => 5550,
        "bad-signature.json" => 5420,
        "unknown-domain.json" => 5015,
        other => panic!("events/{other} has no expected outcome in tests/events.rs"),
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
    files.sort();
    assert!(files.len() >= 5, "events/ lost files: {files:?}");

    let mut successes = 0;
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let event = std::fs::read_to_string(&path).expect("read event");
        let request = lambda_http::request::from_str(&event)
            .unwrap_or_else(|e| panic!("{name} is not an API Gateway event: {e}"));
        let (status, body) = envelope_of(world.handler.handle(request).await);
        let code = expected_code(&name);
        assert_eq!(body["code"].as_u64(), Some(code), "{name}: {body}");
        assert_eq!(status, 200, "{name}");
        if code == 200 {
            successes += 1;
            assert!(body["data"]["accessToken"]["token"].is_string(), "{name}");
            assert!(
                body["data"]["refreshToken"]["expirationTime"].is_u64(),
                "{name}"
            );
        } else {
            assert!(body["data"].is_null(), "{name}");
        }
    }
    assert_eq!(
        world.token_items().await.len(),
        2 * successes,
        "two tokens per successful event"
    );
    assert_eq!(world.twitter.verified(), successes);
}
