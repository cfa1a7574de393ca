//! userInfo: the user the authorizer named, with and without a record.

use serde_json::json;
use testkit::events::{RestEvent, USER_INFO_ROUTE};
use testkit::faulty::{Fault, FaultyServer};
use testkit::prelude::*;
use twitter_auth_login::dynamo::Limits;

use crate::assert_refused;

#[tokio::test]
async fn the_authorized_user_is_answered() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let registered = world.clock.get();
    world.clock.advance(60);
    world.sign_in().await;
    let (status, body) = call(&world.user_info(), &user_info_event(&tokens.uid)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"code": 200, "msg": "success", "extMsg": "", "data": {
            "uid": world.uid_of(TWITTER_USER_ID).await,
            "userDomain": DOMAIN,
            "twitterUserId": TWITTER_USER_ID,
            "twitterUsername": TWITTER_USERNAME,
            "registerTime": registered,
            "lastLoginTime": registered + 60,
            "status": 1
        }})
    );
}

#[tokio::test]
async fn a_uid_without_a_record_is_5033() {
    let world = World::new().await;
    let answer = call(&world.user_info(), &user_info_event("nobody-with-this-uid")).await;
    assert_refused(&answer, 200, 5033, "User does not exist", "");
}

#[tokio::test]
async fn a_request_that_did_not_pass_the_authorizer_is_a_server_fault() {
    let world = World::new().await;
    world.sign_in().await;
    // A route deployed without its authorizer: no context, and no parameter can stand in.
    let bare = RestEvent::new("GET", USER_INFO_ROUTE)
        .query(&[("uid", world.uid_of(TWITTER_USER_ID).await)])
        .to_json();
    let answer = call(&world.user_info(), &bare).await;
    assert_refused(&answer, 500, 5000, "Internal error", "");
}

#[tokio::test]
async fn one_dynamodb_request_and_5001_when_it_fails() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let endpoint = twitter_auth_login::endpoints::user_info::UserInfo::new(
        world.store_via(&proxy.url(), Limits::default()),
    );
    let event = user_info_event(&tokens.uid);
    for round in 1..=3 {
        let (status, body) = call(&endpoint, &event).await;
        assert_eq!((status, body["code"].as_u64()), (200, Some(200)));
        assert_eq!(proxy.requests(), round);
    }
    assert!(proxy.operations().iter().all(|op| op == "GetItem"));
    proxy.inject(None, Fault::dynamodb_error(400, "ThrottlingException"));
    let answer = call(&endpoint, &event).await;
    assert_refused(&answer, 503, 5001, "Service temporarily unavailable", "");
}
