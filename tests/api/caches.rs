//! Each instance's caches of the user domain and the MCC routes, counted at the proxy per item:
//! what a cached instance still reads, how long a change takes to be seen, that a flood of
//! made-up domains cannot grow an instance's memory, and the contract's bound on the reads of a
//! domain's item by K instances.

use serde_json::Value;
use testkit::events::{USER_INFO_ROUTE, authorizer_event, rest_event};
use testkit::faulty::FaultyServer;
use testkit::prelude::*;
use twitter_auth_login::config::{CacheSeconds, Table};
use twitter_auth_login::domain::read_cache::CAPACITY;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::token::{hash_token, random_hex};
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::dynamo::Limits;

use crate::assert_refused;

/// The contract's defaults: a user domain for 10 s, an MCC route for 300 s.
const DEFAULTS: CacheSeconds = CacheSeconds {
    user_domain: 10,
    mcc: 300,
};

/// A world whose functions keep what they read as `caches` says.
async fn cached_world(caches: CacheSeconds) -> World {
    let mut world = World::new().await;
    world.caches = caches;
    world
}

/// The functions of one instance each, reaching DynamoDB through `proxy`.
struct Instance {
    login: WorldLogin,
    refresh: WorldRefresh,
    authorizer: WorldAuthorizer,
}

impl Instance {
    fn new(world: &World, proxy: &FaultyServer) -> Instance {
        Instance::with_limits(world, proxy, Limits::default())
    }

    fn with_limits(world: &World, proxy: &FaultyServer, limits: Limits) -> Instance {
        let store = || world.store_via(&proxy.url(), limits);
        Instance {
            login: world.login_with(store(), &world.twitter.base_url()),
            refresh: world.refresh_with(store()),
            authorizer: world.authorizer_with(store()),
        }
    }
}

fn domain_item(world: &World) -> testkit::traffic::ItemKey {
    world.item_key(Table::UserDomain, &[("userDomain", DOMAIN)])
}

fn route_item(world: &World, mcc: i32) -> testkit::traffic::ItemKey {
    world.item_key(Table::Mcc, &[("mcc", &mcc.to_string())])
}

fn local_mcc_login(world: &World) -> String {
    rest_event(&with(&world.login_params(), "mcc", &LOCAL_MCC.to_string()))
}

/// A login, a refresh of `refresh_token` and a check of the access token it answered, each of
/// which must succeed: the refreshed tokens.
async fn all_serve(world: &World, instance: &Instance, refresh_token: &str) -> Tokens {
    let (status, body) = call(&instance.login, &local_mcc_login(world)).await;
    Tokens::from_answer(status, &body);
    let (status, body) = call(&instance.refresh, &refresh_event(refresh_token)).await;
    let refreshed = Tokens::from_answer(status, &body);
    assert_eq!(
        effect(&instance.authorizer, &refreshed.access).await,
        Ok("Allow".to_owned())
    );
    refreshed
}

/// The authorizer's policy effect for this access token, or its error.
async fn effect(authorizer: &WorldAuthorizer, access: &str) -> Result<String, String> {
    let event = authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", access)]);
    authorize(authorizer, event)
        .await
        .map(|policy: Value| {
            policy["policyDocument"]["Statement"][0]["Effect"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .map_err(|diagnostic| diagnostic.error_message)
}

#[tokio::test]
async fn a_login_with_its_domain_and_route_cached_takes_one_request() {
    let world = cached_world(DEFAULTS).await;
    let proxy = world.counting_proxy().await;
    let login = Instance::new(&world, &proxy).login;
    let event = local_mcc_login(&world);
    let (status, body) = call(&login, &event).await;
    Tokens::from_answer(status, &body);
    assert_eq!(proxy.operations(), ["BatchGetItem", "TransactWriteItems"]);
    for round in 1..=3 {
        let (status, body) = call(&login, &event).await;
        Tokens::from_answer(status, &body);
        assert_eq!(proxy.requests(), 2 + round, "round {round}: the write only");
    }
    // Without an MCC the cached domain is all it needs.
    let (status, body) = call(&login, &rest_event(&world.login_params())).await;
    Tokens::from_answer(status, &body);
    assert_eq!(proxy.requests(), 6);
    // A route it does not hold yet: one read of that route alone.
    let foreign = rest_event(&with(
        &world.login_params(),
        "mcc",
        &FOREIGN_MCC.to_string(),
    ));
    let answer = call(&login, &foreign).await;
    let msg = "MCC does not belong to the current data center";
    assert_refused(&answer, 200, 6084, msg, "");
    assert_eq!(proxy.requests(), 7);
    assert_eq!(proxy.operations()[6], "BatchGetItem");

    let domain = proxy.traffic_of(&domain_item(&world));
    assert_eq!((domain.eventual_reads, domain.strong_reads), (1, 0));
    for mcc in [LOCAL_MCC, FOREIGN_MCC] {
        let route = proxy.traffic_of(&route_item(&world, mcc));
        assert_eq!((route.eventual_reads, route.strong_reads), (1, 0), "{mcc}");
    }
    let answer = call(&login, &foreign).await;
    assert_refused(&answer, 200, 6084, msg, "");
    assert_eq!(proxy.requests(), 7, "a cached route answers without a read");
}

#[tokio::test]
async fn with_the_caches_off_a_login_reads_the_domain_every_time() {
    let world = cached_world(CacheSeconds::OFF).await;
    let proxy = world.counting_proxy().await;
    let login = Instance::new(&world, &proxy).login;
    let event = local_mcc_login(&world);
    for _ in 0..3 {
        let (status, body) = call(&login, &event).await;
        Tokens::from_answer(status, &body);
    }
    assert_eq!(proxy.requests(), 6);
    assert_eq!(proxy.traffic_of(&domain_item(&world)).eventual_reads, 3);
    assert_eq!(
        proxy
            .traffic_of(&route_item(&world, LOCAL_MCC))
            .eventual_reads,
        3
    );
}

#[tokio::test]
async fn a_cached_refresh_or_authorization_reads_only_the_token_and_its_session() {
    let world = cached_world(DEFAULTS).await;
    let proxy = world.counting_proxy().await;
    let instance = Instance::new(&world, &proxy);
    let mut tokens = world.sign_in().await;
    for round in 1..=3 {
        let (status, body) = call(&instance.refresh, &refresh_event(&tokens.refresh)).await;
        let presented = tokens.refresh.clone();
        tokens = Tokens::from_answer(status, &body);
        assert_eq!(proxy.requests(), 2 * round);
        let token = world.item_key(Table::Token, &[("tokenHash", &hash_token(&presented))]);
        assert_eq!(proxy.traffic_of(&token).strong_reads, 1);
    }
    assert_eq!(
        proxy.operations(),
        ["BatchGetItem", "TransactWriteItems"].repeat(3)
    );
    let domain = proxy.traffic_of(&domain_item(&world));
    assert_eq!((domain.eventual_reads, domain.strong_reads), (1, 0));
    let session = world.item_key(
        Table::Session,
        &[("uid", &tokens.uid), ("sessionId", &tokens.session_id())],
    );
    let traffic = proxy.traffic_of(&session);
    assert_eq!(
        (traffic.strong_reads, traffic.transactional_writes),
        (3, 3),
        "the session is read as it is now, every time"
    );

    for round in 1..=3 {
        assert_eq!(
            effect(&instance.authorizer, &tokens.access).await,
            Ok("Allow".to_owned())
        );
        assert_eq!(proxy.requests(), 6 + round, "one request per check");
    }
    let domain = proxy.traffic_of(&domain_item(&world));
    assert_eq!(
        domain.eventual_reads, 2,
        "once by the refresh, once by the authorizer: each instance has its own cache"
    );
    assert_eq!(proxy.traffic_of(&session).strong_reads, 6);
}

#[tokio::test]
async fn a_domain_disabled_while_cached_is_refused_everywhere_after_domain_cache_seconds() {
    let world = cached_world(CacheSeconds {
        user_domain: 1,
        mcc: 300,
    })
    .await;
    let proxy = world.counting_proxy().await;
    let instance = Instance::new(&world, &proxy);
    let tokens = world.sign_in().await;
    let refreshed = all_serve(&world, &instance, &tokens.refresh).await;

    world
        .admin
        .set_enabled(DOMAIN, false)
        .await
        .expect("disable");
    // Within the cache's time every instance still answers from what it holds...
    let refreshed = all_serve(&world, &instance, &refreshed.refresh).await;

    // ... and once it has passed, every function refuses.
    world.clock.advance(1);
    let refused = |answer: &(u16, Value)| {
        assert_refused(answer, 200, 5104, "User domain has been disabled", "");
    };
    refused(&call(&instance.login, &local_mcc_login(&world)).await);
    refused(&call(&instance.refresh, &refresh_event(&refreshed.refresh)).await);
    assert_eq!(
        effect(&instance.authorizer, &refreshed.access).await,
        Ok("Deny".to_owned())
    );
    // A disabled domain is cached like any other answer: read again only once it expires.
    let reads = proxy.traffic_of(&domain_item(&world)).reads();
    refused(&call(&instance.login, &local_mcc_login(&world)).await);
    assert_eq!(proxy.traffic_of(&domain_item(&world)).reads(), reads);
    assert_eq!(
        reads, 6,
        "each function read it twice: before and after its expiry"
    );
}

#[tokio::test]
async fn an_unknown_domain_is_remembered_until_its_entry_expires() {
    let world = cached_world(DEFAULTS).await;
    let proxy = world.counting_proxy().await;
    let login = Instance::new(&world, &proxy).login;
    let added = "C.DM.777";
    let params_for =
        |secret: &str| signed_params(added, APP_ID, OAUTH_TOKEN, OAUTH_TOKEN_SECRET, secret);
    let unknown = rest_event(&params_for("not-yet"));
    let missing = "User domain does not exist";
    for _ in 0..3 {
        assert_refused(&call(&login, &unknown).await, 200, 5015, missing, "");
    }
    assert_eq!(
        proxy.requests(),
        1,
        "a not-found is cached like a found domain"
    );

    let secret = world
        .admin
        .add_domain(added, None)
        .await
        .expect("add domain");
    world
        .admin
        .add_twitter_app(added, APP_ID, CONSUMER_KEY, &Secret::new(CONSUMER_SECRET))
        .await
        .expect("add app");
    let event = rest_event(&params_for(secret.expose()));
    assert_refused(&call(&login, &event).await, 200, 5015, missing, "");
    world.clock.advance(DEFAULTS.user_domain);
    let (status, body) = call(&login, &event).await;
    Tokens::from_answer(status, &body);
    let item = world.item_key(Table::UserDomain, &[("userDomain", added)]);
    assert_eq!(proxy.traffic_of(&item).eventual_reads, 2);
}

#[tokio::test]
async fn a_flood_of_logins_for_made_up_domains_keeps_the_cache_at_its_cap() {
    let world = cached_world(DEFAULTS).await;
    let proxy = world.counting_proxy().await;
    // Patient, so that a busy moto is waited out rather than read again.
    let store = world.store_via(&proxy.url(), PATIENT);
    let login = world.login_with(store.clone(), &world.twitter.base_url());
    let prefix = u64::from_str_radix(&random_hex::<4>().expect("random"), 16).expect("hex");
    let made_up: Vec<String> = (0..CAPACITY + 200)
        .map(|n| format!("R.ND.{prefix}{n:05}"))
        .collect();
    let flood = |names: &[String]| {
        let events: Vec<String> = names
            .iter()
            .map(|name| {
                rest_event(&signed_params(
                    name,
                    APP_ID,
                    OAUTH_TOKEN,
                    OAUTH_TOKEN_SECRET,
                    "x",
                ))
            })
            .collect();
        let login = &login;
        async move {
            for event in &events {
                assert_refused(
                    &call(login, event).await,
                    200,
                    5015,
                    "User domain does not exist",
                    "",
                );
            }
        }
    };
    flood(&made_up[..CAPACITY]).await;
    let cache = &store.caches().user_domains;
    assert_eq!(cache.len(), CAPACITY);
    // The first is used again (no read): it is now the most recently used.
    flood(&made_up[..1]).await;
    assert_eq!(proxy.requests(), CAPACITY);
    flood(&made_up[CAPACITY..]).await;
    assert_eq!(proxy.requests(), CAPACITY + 200);
    assert_eq!(cache.len(), CAPACITY, "the cache stays at its cap");

    // Held, the most recently used first: the 200 newest, the one used again, then the
    // newest of the first flood; the 200 used least recently were evicted.
    let name = |n: usize| UserDomainName::parse(&made_up[n]).expect("a well-formed name");
    let mut expected: Vec<UserDomainName> = (CAPACITY..CAPACITY + 200).rev().map(name).collect();
    expected.push(name(0));
    expected.extend((201..CAPACITY).rev().map(name));
    assert_eq!(cache.keys(), expected);
    flood(&made_up[1..2]).await;
    assert_eq!(
        proxy.requests(),
        CAPACITY + 201,
        "an evicted domain is read again"
    );
}

/// K instances of the login, the refresh and the authorizer, each busy every second of T: the
/// contract's bound on the reads of the domain's item (and the MCC route's), counted per
/// function at a proxy of its own. The clock moves by hand, so the run takes only as long as
/// its requests; the instances wait out a busy moto rather than retry (a retry reads again).
#[tokio::test]
async fn k_instances_read_the_domains_item_at_most_k_times_per_period_plus_one() {
    const K: usize = 4;
    const T: u64 = 30;
    const PER_SECOND: usize = 1;
    let mut world = cached_world(DEFAULTS).await;
    // Its K * T logins are one end user's: none may end the sessions the refreshes use.
    world.max_sessions = (K * T as usize * PER_SECOND + K + 1) as u64;
    let proxies = [
        world.counting_proxy().await,
        world.counting_proxy().await,
        world.counting_proxy().await,
    ];
    let [login_proxy, refresh_proxy, authorizer_proxy] = &proxies;
    let logins: Vec<WorldLogin> = (0..K)
        .map(|_| Instance::with_limits(&world, login_proxy, PATIENT).login)
        .collect();
    let refreshes: Vec<WorldRefresh> = (0..K)
        .map(|_| Instance::with_limits(&world, refresh_proxy, PATIENT).refresh)
        .collect();
    let authorizers: Vec<WorldAuthorizer> = (0..K)
        .map(|_| Instance::with_limits(&world, authorizer_proxy, PATIENT).authorizer)
        .collect();
    let mut chains = Vec::new();
    for _ in 0..K {
        chains.push(world.sign_in().await);
    }
    let standing = world.sign_in().await;
    let event = local_mcc_login(&world);

    for _ in 0..T {
        for n in 0..K {
            for _ in 0..PER_SECOND {
                let (status, body) = call(&logins[n], &event).await;
                Tokens::from_answer(status, &body);
                let (status, body) = call(&refreshes[n], &refresh_event(&chains[n].refresh)).await;
                chains[n] = Tokens::from_answer(status, &body);
                assert_eq!(
                    effect(&authorizers[n], &standing.access).await,
                    Ok("Allow".to_owned())
                );
            }
        }
        world.clock.advance(1);
    }

    let requests = K * T as usize * PER_SECOND;
    let bound = |cache_seconds: u64| K * (T.div_ceil(cache_seconds) as usize + 1);
    for (what, proxy) in ["login", "refresh", "authorizer"].iter().zip(&proxies) {
        let reads = proxy.traffic_of(&domain_item(&world)).reads();
        assert!(
            reads <= bound(DEFAULTS.user_domain),
            "{what}: {reads} reads of the domain's item by {K} instances in {T} s"
        );
        // Each instance read it when it started and whenever its entry had expired.
        assert_eq!(
            reads,
            K * T.div_ceil(DEFAULTS.user_domain) as usize,
            "{what}"
        );
    }
    let route_reads = login_proxy
        .traffic_of(&route_item(&world, LOCAL_MCC))
        .reads();
    assert!(route_reads <= bound(DEFAULTS.mcc), "{route_reads}");
    assert_eq!(route_reads, K);
    let directory_reads = K * T.div_ceil(DEFAULTS.user_domain) as usize;
    assert_eq!(login_proxy.requests(), requests + directory_reads);
    assert_eq!(refresh_proxy.requests(), 2 * requests);
    assert_eq!(authorizer_proxy.requests(), requests);
}
