//! The access token as a signed JWT: refused before any DynamoDB request when it is not one of
//! ours, still refused when its session is revoked, and trusted by a verifier that is not this
//! project's, from the published keys alone.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};
use testkit::events::{USER_INFO_ROUTE, authorizer_event};
use testkit::faulty::FaultyServer;
use testkit::forge::{claims_of, forgeries, header_of};
use testkit::functions::InProcess;
use testkit::gateway::{Gateway, Invoke, InvokeError, Invoked};
use testkit::prelude::*;
use twitter_auth_admin::template::Template;
use twitter_auth_login::dynamo::Limits;
use twitter_auth_login::endpoints::authorizer::UNAUTHORIZED;
use twitter_auth_login::keys::jwk::KeyStatus;

use crate::{assert_refused, logout, refresh};

const VERIFICATION_FAILED: &str = "Token verification failed";

/// The authorizer's verdict on an `Authorization` value: the policy, or its error message.
pub async fn authorized(world: &World, authorization: &str) -> Result<Value, String> {
    authorize(
        &world.authorizer(),
        authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", authorization)]),
    )
    .await
    .map_err(|diagnostic| diagnostic.error_message)
}

#[tokio::test]
async fn login_and_refresh_answer_rfc_9068_access_tokens() {
    let world = World::new().await;
    let login = world.sign_in().await;
    let (status, body) = refresh(&world, &login.refresh).await;
    let refreshed = Tokens::from_answer(status, &body);
    let current = world.keys.key(KeyStatus::Current).await;
    for tokens in [&login, &refreshed] {
        assert_eq!(
            header_of(&tokens.access),
            json!({"alg": "RS256", "typ": "at+jwt", "kid": current.kid})
        );
        let claims = claims_of(&tokens.access);
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.sub, tokens.uid);
        assert_eq!(claims.aud, DOMAIN);
        assert_eq!(claims.client_id, APP_ID);
        assert_eq!(claims.sid, tokens.session_id());
        assert_eq!(claims.exp, tokens.access_expires);
        assert_eq!(claims.exp - claims.iat, world.lifetimes.access_token_ttl);
    }
    assert_ne!(
        claims_of(&login.access).jti,
        claims_of(&refreshed.access).jti
    );
}

#[tokio::test]
async fn forged_tokens_are_refused_with_no_dynamodb_request() {
    let world = World::new().await;
    let genuine = world.sign_in().await;
    let current = world.keys.key(KeyStatus::Current).await;
    let signer = current.signing_key().expect("signing key");
    let forged = forgeries(
        &genuine.access,
        &signer,
        &current.public(),
        world.clock.get(),
    );

    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let store = || world.store_via(&proxy.url(), Limits::default());
    let authorizer = world.authorizer_with(store());
    let logout = world.logout_with(store());
    for forgery in &forged {
        for authorization in [forgery.token.clone(), format!("Bearer {}", forgery.token)] {
            let event =
                authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", &authorization)]);
            let refused = authorize(&authorizer, event)
                .await
                .map_err(|d| d.error_message);
            assert_eq!(refused, Err(UNAUTHORIZED.to_owned()), "{}", forgery.what);
            let answer = call(&logout, &logout_event(Some(&authorization), Some("global"))).await;
            assert_refused(&answer, 200, 5032, VERIFICATION_FAILED, forgery.reason);
        }
        assert_eq!(proxy.requests(), 0, "{} reached DynamoDB", forgery.what);
    }
    // The genuine token, through the same functions, costs its one request.
    assert!(authorized(&world, &genuine.access).await.is_ok());
    let event = authorizer_event(
        "GET",
        USER_INFO_ROUTE,
        &[("Authorization", &genuine.access)],
    );
    assert!(authorize(&authorizer, event).await.is_ok());
    assert_eq!(proxy.requests(), 1);
}

#[tokio::test]
async fn a_revoked_session_refuses_its_validly_signed_token() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    assert!(authorized(&world, &tokens.access).await.is_ok());
    let (_, body) = logout(&world, &tokens.access, None).await;
    assert_eq!(body["data"]["revokedSessions"], 1, "{body}");
    // Its signature and claims still verify, offline, until exp...
    let verified = world
        .verifier()
        .verify(&tokens.access, world.clock.get())
        .await
        .expect("keys");
    assert!(verified.is_ok());
    // ...but the project's own checks see the revocation: a fresh authorizer instance (past
    // any cache) and logout.
    assert_eq!(
        authorized(&world, &tokens.access).await,
        Err(UNAUTHORIZED.to_owned())
    );
    assert_refused(
        &logout(&world, &tokens.access, None).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "revoked",
    );
}

/// The functions in this process, handed to the local API once it knows its own URL: the
/// issuer is the API's base URL, as `TOKEN_ISSUER` is when deployed.
#[derive(Default)]
struct Late(OnceLock<InProcess>);

impl Invoke for Late {
    fn invoke<'a>(&'a self, function: &'a str, payload: Value) -> Invoked<'a> {
        match self.0.get() {
            Some(functions) => functions.invoke(function, payload),
            None => Box::pin(async { Err(InvokeError::Unreachable("not started yet".to_owned())) }),
        }
    }
}

#[tokio::test]
async fn an_independent_verifier_trusts_the_tokens_from_the_published_keys() {
    let mut world = World::new().await;
    let api = Template::shipped().api(&HashMap::new()).expect("api");
    let functions = Arc::new(Late::default());
    let gateway = Gateway::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        api,
        functions.clone(),
        false,
    )
    .await
    .expect("local api");
    world.issuer = gateway.url();
    if functions
        .0
        .set(InProcess::new(&world, world.store()))
        .is_err()
    {
        panic!("the functions are set once");
    }

    let login = world.sign_in().await;
    let (status, body) = refresh(&world, &login.refresh).await;
    let refreshed = Tokens::from_answer(status, &body);
    let expected = |tokens: &Tokens| {
        json!({"token": tokens.access, "aud": DOMAIN, "sub": tokens.uid,
               "sid": tokens.session_id(), "client_id": APP_ID, "exp": tokens.access_expires})
    };
    let current = world.keys.key(KeyStatus::Current).await;
    let signer = current.signing_key().expect("signing key");
    let forged: Vec<String> =
        forgeries(&login.access, &signer, &current.public(), world.clock.get())
            .into_iter()
            .map(|forgery| forgery.token)
            .collect();
    let input = json!({
        "issuer": world.issuer,
        "tokens": [expected(&login), expected(&refreshed)],
        "forged": forged,
    });

    let verdict = python_verifier(&input).await;
    let verified = verdict["verified"].as_array().expect("verified");
    assert_eq!(verified.len(), 2, "{verdict}");
    assert_eq!(verified[0]["jti"], json!(claims_of(&login.access).jti));
    assert_eq!(verified[1]["jti"], json!(claims_of(&refreshed.access).jti));
    assert_eq!(verdict["refused"], forged.len(), "{verdict}");
}

/// Runs tests/jwt_verifier.py (PyJWT, from the workspace's tools) on `input`.
async fn python_verifier(input: &Value) -> Value {
    use tokio::io::AsyncWriteExt;
    let root = concat!(env!("CARGO_MANIFEST_DIR"));
    let mut child = tokio::process::Command::new(format!("{root}/.venv/bin/python"))
        .arg(format!("{root}/tests/jwt_verifier.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the tools' python (scripts/python-tools)");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.to_string().as_bytes())
        .await
        .expect("write");
    drop(stdin);
    let output = child.wait_with_output().await.expect("the verifier ran");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the verifier's JSON")
}
