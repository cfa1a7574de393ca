//! Every sample event in `events/` (for `sam local invoke -e` and `cargo lambda invoke
//! --data-file`) goes through its function against the demo data, so the files never rot.
//! What each must answer is in `events/expected.txt`, which `scripts/test-sam-local` reads too.
//! A rotation event is replayed as the file says: with this world's secret and its current
//! version put in.

use serde_json::Value;
use testkit::functions::Function;
use testkit::prelude::*;
use twitter_auth_login::config::Table;
use twitter_auth_login::endpoints::authorizer::UNAUTHORIZED;
use twitter_auth_login::endpoints::key_rotation::KeyRotation;
use twitter_auth_login::invocation::{Handler, Invocation};

/// What an event must answer, as `events/expected.txt` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// The envelope's code with HTTP 200; for an authorizer, 401 is its refusal.
    Code(u64),
    /// HTTP 200 with a document that is not the envelope and has this member.
    Document(String),
    /// Nothing returned, no error.
    Done,
}

/// The version a rotation event names as its `ClientRequestToken`, put in when it is replayed.
const CURRENT_VERSION: &str = "{{AWSCURRENT version}}";

/// The lines of `events/expected.txt`, in order: the event file, the function it is for and
/// what it must answer.
fn expected(dir: &str) -> Vec<(String, Function, Answer)> {
    let manifest =
        std::fs::read_to_string(format!("{dir}/expected.txt")).expect("events/expected.txt");
    manifest
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [file, binary, answer] = fields[..] else {
                panic!("events/expected.txt: not `event function answer`: {line}");
            };
            let function = Function::named(binary)
                .unwrap_or_else(|| panic!("events/expected.txt: no function {binary}"));
            let answer = match (answer, answer.strip_prefix("document:")) {
                ("done", _) => Answer::Done,
                (_, Some(member)) => Answer::Document(member.to_owned()),
                (code, None) => Answer::Code(
                    code.parse()
                        .unwrap_or_else(|_| panic!("events/expected.txt: answer {code}")),
                ),
            };
            (file.to_owned(), function, answer)
        })
        .collect()
}

#[tokio::test]
async fn every_sample_event_answers_as_intended() {
    let world = World::demo().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("events/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_owned()
        })
        .collect();
    files.sort();
    assert!(files.len() >= 14, "events/ lost files: {files:?}");
    let expected = expected(dir);
    let mut listed: Vec<String> = expected.iter().map(|(file, ..)| file.clone()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every file in events/ has exactly one line in events/expected.txt"
    );

    let mut logins = 0;
    for (name, function, answer) in expected {
        let event = std::fs::read_to_string(format!("{dir}/{name}")).expect("read event");
        if function == Function::KeyRotation {
            assert_eq!(
                answer,
                Answer::Done,
                "{name}: a rotation step answers nothing"
            );
            // The local stack's names, put in as a replay does: this world's secret, and the
            // version its rotation made current.
            let mut json: Value = serde_json::from_str(&event).expect("json");
            assert_eq!(json["ClientRequestToken"], CURRENT_VERSION, "{name}");
            json["ClientRequestToken"] = world.keys.current_version().await.into();
            json["SecretId"] = world.keys.signing_secret.clone().into();
            let rotation = KeyRotation::new(world.keys.rotation());
            let event = serde_json::from_value(json).expect("a rotation event");
            rotation
                .handle(event, &Invocation::new(context()))
                .await
                .unwrap_or_else(|e| panic!("{name}: {}", e.error_message));
            continue;
        }
        if let Answer::Document(member) = &answer {
            let (status, body) = match function {
                Function::TokenKeys => call(&world.token_keys(), &event).await,
                _ => panic!("{name}: {function:?} answers no document"),
            };
            assert_eq!(status, 200, "{name}");
            assert!(
                body.get("code").is_none(),
                "{name}: not the envelope: {body}"
            );
            assert!(
                body[member.as_str()]
                    .as_array()
                    .is_some_and(|keys| !keys.is_empty()),
                "{name}: {member}: {body}"
            );
            continue;
        }
        let Answer::Code(code) = answer else {
            panic!("{name}: {answer:?} is not what {function:?} answers");
        };
        if function == Function::Authorizer {
            assert_eq!(code, 401, "{name}: an authorizer's refusal is 401");
            let json: Value = serde_json::from_str(&event).expect("json");
            let error = authorize(&world.authorizer(), json)
                .await
                .expect_err("refused");
            assert_eq!(error.error_message, UNAUTHORIZED, "{name}");
            continue;
        }
        let (status, body) = match function {
            Function::Login => call(&world.login(), &event).await,
            Function::Refresh => call(&world.refresh(), &event).await,
            Function::Logout => call(&world.logout(), &event).await,
            Function::ListSessions => call(&world.list_sessions(), &event).await,
            Function::EndSession => call(&world.end_session(), &event).await,
            _ => call(&world.user_info(), &event).await,
        };
        assert_eq!(body["code"].as_u64(), Some(code), "{name}: {body}");
        assert_eq!(status, 200, "{name}");
        assert_eq!(body["data"].is_null(), code != 200, "{name}");
        if function == Function::Login && code == 200 {
            logins += 1;
            Tokens::from_answer(status, &body);
        }
        if function == Function::UserInfo {
            let demo = &world.seed;
            assert_eq!(
                body["data"]["uid"],
                world.uid_of(&demo.twitter_user_id).await,
                "{name} names the demo user"
            );
        }
        if function == Function::ListSessions {
            let listed = body["data"]["sessions"].as_array().expect("sessions");
            assert_eq!(
                listed.len(),
                logins,
                "{name}: the demo user's sessions: {body}"
            );
        }
        if function == Function::EndSession && code == 200 {
            assert_eq!(
                body["data"]["revokedSessions"], 0,
                "{name}: no such session"
            );
        }
    }
    assert_eq!(logins, 2);
    assert_eq!(world.items(Table::Token).await.len(), 2 * logins);
    assert_eq!(world.twitter.verified(), logins);
}
