//! DynamoDB misbehaving: the handler answers the contract's code within the SDK limits, stores
//! nothing, and the next login through the same handler succeeds.

mod common;

use std::time::{Duration, Instant};

use common::*;
use testkit::faulty::{Fault, FaultyServer};
use twitter_auth_login::dynamo::Limits;

/// The default limits give up on an operation after 2.5 s; allow scheduling slack on top.
const GIVE_UP_WITHIN: Duration = Duration::from_millis(4000);

const READ: &str = "BatchGetItem";
const WRITE: &str = "TransactWriteItems";

async fn world_behind_proxy() -> (World, FaultyServer, TestHandler) {
    let world = World::new().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let handler = world.handler_via(&proxy.url(), Limits::default());
    (world, proxy, handler)
}

async fn assert_fault_then_recovery(operation: &str, fault: Fault, code: u64, status: u16) {
    let (world, proxy, handler) = world_behind_proxy().await;
    let (ok_status, ok) = call(&handler, &world.valid_params()).await;
    assert_eq!(
        (ok_status, ok["code"].as_u64()),
        (200, Some(200)),
        "through the healthy proxy"
    );
    let stored_before = world.token_items().await.len();
    assert_eq!(stored_before, 2);

    proxy.inject(Some(operation), fault.clone());
    let started = Instant::now();
    let (got_status, body) = call(&handler, &world.valid_params()).await;
    let elapsed = started.elapsed();
    assert_eq!(
        body["code"].as_u64(),
        Some(code),
        "{operation} {fault:?}: {body}"
    );
    assert_eq!(got_status, status);
    assert!(body["data"].is_null());
    assert!(
        elapsed < GIVE_UP_WITHIN,
        "{operation} {fault:?} took {elapsed:?}"
    );
    assert!(proxy.faulted() >= 1, "the fault was met");
    assert_eq!(
        world.token_items().await.len(),
        stored_before,
        "{operation} {fault:?} stored something"
    );

    proxy.heal();
    let (healed_status, healed) = call(&handler, &world.valid_params()).await;
    assert_eq!(
        (healed_status, healed["code"].as_u64()),
        (200, Some(200)),
        "the next login succeeds"
    );
    assert_eq!(world.token_items().await.len(), stored_before + 2);
}

#[tokio::test]
async fn throttling_is_5001() {
    let fault = Fault::dynamodb_error(400, "ThrottlingException");
    assert_fault_then_recovery(READ, fault.clone(), 5001, 503).await;
    assert_fault_then_recovery(WRITE, fault, 5001, 503).await;
}

#[tokio::test]
async fn provisioned_throughput_exceeded_is_5001() {
    let fault = Fault::dynamodb_error(400, "ProvisionedThroughputExceededException");
    assert_fault_then_recovery(READ, fault, 5001, 503).await;
}

#[tokio::test]
async fn a_server_error_is_5001() {
    let fault = Fault::dynamodb_error(500, "InternalServerError");
    assert_fault_then_recovery(READ, fault.clone(), 5001, 503).await;
    assert_fault_then_recovery(WRITE, fault, 5001, 503).await;
    let bare = Fault::answer(503, "text/plain", "Service Unavailable");
    assert_fault_then_recovery(WRITE, bare, 5001, 503).await;
}

#[tokio::test]
async fn a_hung_dynamodb_is_5001_within_the_limits() {
    assert_fault_then_recovery(READ, Fault::Hang, 5001, 503).await;
    assert_fault_then_recovery(WRITE, Fault::Hang, 5001, 503).await;
}

#[tokio::test]
async fn a_dropped_connection_is_5001() {
    assert_fault_then_recovery(READ, Fault::Drop, 5001, 503).await;
    assert_fault_then_recovery(WRITE, Fault::Drop, 5001, 503).await;
}

#[tokio::test]
async fn a_request_dynamodb_refuses_is_5000() {
    let fault = Fault::dynamodb_error(400, "ValidationException");
    assert_fault_then_recovery(READ, fault.clone(), 5000, 500).await;
    assert_fault_then_recovery(WRITE, fault, 5000, 500).await;
}

#[tokio::test]
async fn a_canceled_transaction_is_5000_or_5001_by_its_reason() {
    let canceled = |reason: &str| {
        let body = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"stand-in","CancellationReasons":[{{"Code":"{reason}"}},{{"Code":"None"}}]}}"#
        );
        Fault::answer(400, "application/x-amz-json-1.0", &body)
    };
    assert_fault_then_recovery(WRITE, canceled("ConditionalCheckFailed"), 5000, 500).await;
    assert_fault_then_recovery(WRITE, canceled("ThrottlingError"), 5001, 503).await;
    assert_fault_then_recovery(WRITE, canceled("TransactionConflict"), 5001, 503).await;
}

#[tokio::test]
async fn a_refused_connection_is_5001() {
    let world = World::new().await;
    let refused = testkit::server::refused_addr().expect("port");
    let handler = world.handler_via(&format!("http://{refused}"), Limits::default());
    let started = Instant::now();
    let (status, body) = call(&handler, &world.valid_params()).await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(5001)), "{body}");
    assert!(started.elapsed() < GIVE_UP_WITHIN);
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn missing_tables_are_5000_and_nothing_is_half_written() {
    let world = World::new().await;
    // Reads work, the token table is gone: the transaction fails whole.
    world
        .client
        .delete_table()
        .table_name(&world.tables.token)
        .send()
        .await
        .expect("drop token table");
    let (status, body) = world.call(&world.valid_params()).await;
    assert_eq!((status, body["code"].as_u64()), (500, Some(5000)), "{body}");
    assert_eq!(world.twitter.verified(), 1);

    world
        .client
        .delete_table()
        .table_name(&world.tables.user_domain)
        .send()
        .await
        .expect("drop domain table");
    let (status, body) = world.call(&world.valid_params()).await;
    assert_eq!((status, body["code"].as_u64()), (500, Some(5000)), "{body}");
    assert_eq!(
        world.twitter.verified(),
        1,
        "Twitter is not asked when the read fails"
    );
}
