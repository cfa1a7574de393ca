//! The functions end to end, each through its edge, against a real DynamoDB API (moto on
//! loopback) and the Twitter stand-in that checks OAuth signatures: one test binary, a module
//! per area.

mod access_tokens;
mod authorizer;
mod caches;
mod edge;
mod events;
mod faults;
mod journey;
mod lifecycle_logic;
mod login;
mod logout;
mod oauth;
mod openapi;
mod ports;
mod refresh;
mod session_cap;
mod sessions;
mod signing_keys;
mod startup;
mod twitter_faults;
mod user_info;

use serde_json::Value;
use testkit::events::rest_event;
use testkit::prelude::{Item, Params, World, call};
use twitter_auth_login::config::Table;

/// A login through the world's login function.
pub async fn login(world: &World, params: &Params) -> (u16, Value) {
    call(&world.login(), &rest_event(params)).await
}

/// A refresh with this token in a form body.
pub async fn refresh(world: &World, refresh_token: &str) -> (u16, Value) {
    call(
        &world.refresh(),
        &testkit::prelude::refresh_event(refresh_token),
    )
    .await
}

/// A logout with this `Authorization` header value and scope.
pub async fn logout(world: &World, authorization: &str, scope: Option<&str>) -> (u16, Value) {
    call(
        &world.logout(),
        &testkit::prelude::logout_event(Some(authorization), scope),
    )
    .await
}

/// Asserts an envelope's status, code, msg and extMsg, and that `data` is null.
#[track_caller]
pub fn assert_refused(answer: &(u16, Value), status: u16, code: u64, msg: &str, ext_msg: &str) {
    let (got_status, body) = answer;
    assert_eq!(body["code"].as_u64(), Some(code), "{body}");
    assert_eq!(body["msg"], msg, "{body}");
    assert_eq!(body["extMsg"], ext_msg, "{body}");
    assert_eq!(*got_status, status, "{body}");
    assert!(body["data"].is_null(), "{body}");
}

/// Asserts a 4001 naming `name`.
#[track_caller]
pub fn assert_format_incorrect(answer: &(u16, Value), name: &str) {
    assert_refused(answer, 200, 4001, "Parameter format incorrect", name);
}

/// Every item of the tables a login writes: tokens, sessions, users.
pub async fn written(world: &World) -> (Vec<Item>, Vec<Item>, Vec<Item>) {
    (
        world.items(Table::Token).await,
        world.items(Table::Session).await,
        world.items(Table::User).await,
    )
}

/// Asserts that no login wrote anything.
pub async fn assert_nothing_written(world: &World) {
    let (tokens, sessions, users) = written(world).await;
    assert!(
        tokens.is_empty() && sessions.is_empty() && users.is_empty(),
        "something was written: {} tokens, {} sessions, {} users",
        tokens.len(),
        sessions.len(),
        users.len()
    );
}
