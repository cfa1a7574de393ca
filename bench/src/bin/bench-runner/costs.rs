//! Item sizes as the functions store them, and what a million operations cost.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use bench::cost::{self, PerMillion, item_size, read_units, write_units};
use bench::report::{Verdict, print_table, record};
use bench::world::{Fallible, invoke, login_event};
use testkit::prelude::{self as kit, LOCAL_MCC, World};
use twitter_auth_admin::template::Template;
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::token::{PresentedToken, hash_token};

use crate::requests::Counted;
use crate::shared::{sign_in, trim};

/// One item of a table, straight from moto.
async fn stored(
    world: &World,
    table: Table,
    key: &[(&str, AttributeValue)],
) -> Fallible<kit::Item> {
    let name = world.tables.get(table).ok_or("table")?;
    world
        .client
        .get_item()
        .table_name(name)
        .set_key(Some(
            key.iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        ))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| format!("get_item {name}: {e:?}"))?
        .item
        .ok_or(format!("no such item in {name}"))
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// Sizes of the items an operation reads and writes, as the functions store them.
struct Sizes {
    domain: usize,
    mcc_route: usize,
    access_token: usize,
    refresh_token: usize,
    session_new: usize,
    session_rotated: usize,
    /// The session's entry in the index of active sessions, which every write of it updates.
    session_index_entry: usize,
    user: usize,
}

/// What the sessions table's index holds of a session, as template.yaml defines it: the
/// table's keys, the index's own and what it projects.
fn index_entry(session: &kit::Item) -> Fallible<kit::Item> {
    let tables = Template::shipped().tables()?;
    let table = tables
        .iter()
        .find(|t| t.logical_id == Table::Session.logical_id())
        .ok_or("the template has no session table")?;
    let index = table
        .local_indexes
        .first()
        .ok_or("the session table has no index")?;
    let indexed: Vec<&str> = table
        .key_schema
        .iter()
        .chain(&index.key_schema)
        .map(|(name, _)| name.as_str())
        .chain(index.non_key_attributes.iter().map(String::as_str))
        .collect();
    Ok(session
        .iter()
        .filter(|(name, _)| indexed.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect())
}

async fn item_sizes(world: &World) -> Fallible<Sizes> {
    let seed = &world.seed;
    let tokens = sign_in(&world.login(), &login_event(world)).await?;
    // The access token is a JWT; the opaque refresh token carries the same route.
    let route = PresentedToken::parse(&tokens.refresh)
        .ok_or("a refresh token that does not parse")?
        .route;
    let token = |raw: &str| {
        let hash = hash_token(raw);
        async move { stored(world, Table::Token, &[("tokenHash", s(&hash))]).await }
    };
    let session_key = [("uid", s(&route.uid)), ("sessionId", s(&route.session_id))];
    let access_token = item_size(&token(&tokens.access).await?);
    let refresh_token = item_size(&token(&tokens.refresh).await?);
    let new_session = stored(world, Table::Session, &session_key).await?;
    let session_new = item_size(&new_session);
    let session_index_entry = item_size(&index_entry(&new_session)?);
    let user = item_size(&stored(world, Table::User, &[("uid", s(&tokens.uid))]).await?);
    let (_, answer) = invoke(&world.refresh(), &kit::refresh_event(&tokens.refresh)).await?;
    answer.tokens()?;
    let session_rotated = item_size(&stored(world, Table::Session, &session_key).await?);
    let domain = item_size(
        &stored(
            world,
            Table::UserDomain,
            &[("userDomain", s(&seed.user_domain))],
        )
        .await?,
    );
    let mcc_route = item_size(
        &stored(
            world,
            Table::Mcc,
            &[("mcc", AttributeValue::N(LOCAL_MCC.to_string()))],
        )
        .await?,
    );
    Ok(Sizes {
        domain,
        mcc_route,
        access_token,
        refresh_token,
        session_new,
        session_rotated,
        session_index_entry,
        user,
    })
}

/// What a million logins, refreshes and authorizations cost, from the requests counted, the
/// item sizes stored and the handler durations measured.
pub async fn costs(
    world: &World,
    login: &Counted,
    refresh: &Counted,
    authorization: &Counted,
    p50s: &BTreeMap<&str, Duration>,
) -> Fallible<()> {
    let sizes = item_sizes(world).await?;
    let section = "DynamoDB item sizes (as the functions store them, read back from moto)";
    // How each item is read (strongly consistent or not) and whether a transaction writes it.
    let units = |size: usize, strong: bool, written: bool| {
        let read = format!(
            "{} RRU per {} read",
            trim(read_units(size, strong)),
            if strong {
                "strongly consistent"
            } else {
                "eventually consistent"
            }
        );
        if written {
            format!(
                "{size} bytes: {read}, {} WRU per transactional write",
                trim(write_units(size, true))
            )
        } else {
            format!("{size} bytes: {read}")
        }
    };
    for (what, size, strong, written) in [
        (
            "user domain (one app), read by login, refresh and the authorizer",
            sizes.domain,
            false,
            false,
        ),
        ("MCC route, read by login", sizes.mcc_route, false, false),
        ("access token", sizes.access_token, true, true),
        ("refresh token", sizes.refresh_token, true, true),
        (
            "session, as a login creates it",
            sizes.session_new,
            true,
            true,
        ),
        (
            "session, after a refresh",
            sizes.session_rotated,
            true,
            true,
        ),
        (
            "session's entry in the index of active sessions (written with the session)",
            sizes.session_index_entry,
            true,
            true,
        ),
        (
            "end user, written by login, read by userInfo",
            sizes.user,
            true,
            true,
        ),
    ] {
        record(
            section,
            what,
            &units(size, strong, written),
            "",
            Verdict::Info,
        );
    }

    // Units per request, then per operation from the requests counted.
    let session = sizes.session_new.max(sizes.session_rotated);
    // The config tables are read eventually consistent (and, with the caches on, seldom: these
    // are the caches-off figures, one read per request).
    let login_read = read_units(sizes.domain, false) + read_units(sizes.mcc_route, false);
    // A session's write also writes its index entry, counted here as a transactional write.
    let index_write = write_units(sizes.session_index_entry, true);
    let login_write = write_units(sizes.access_token, true)
        + write_units(sizes.refresh_token, true)
        + write_units(sizes.session_new, true)
        + index_write
        + write_units(sizes.user, true);
    let token_read = read_units(sizes.access_token.max(sizes.refresh_token), true)
        + read_units(session, true)
        + read_units(sizes.domain, false);
    let refresh_write = write_units(sizes.access_token, true)
        + write_units(sizes.refresh_token, true)
        + write_units(session, true)
        + index_write;
    let per = |counted: &Counted, read: f64, write: f64| {
        (
            counted.per_operation("BatchGetItem") * read,
            counted.per_operation("TransactWriteItems") * write,
        )
    };
    let billed_ms = |what: &str| {
        p50s.get(what)
            .map_or(1, |d| (d.as_secs_f64() * 1e3).ceil().max(1.0) as u64)
    };

    let section = "Cost per million operations (128 MB arm64 Lambda)";
    record(
        section,
        "prices used",
        &format!("{}; {}", cost::PRICES, cost::PRICES_SOURCE),
        "",
        Verdict::Info,
    );
    let mut rows = Vec::new();
    for (what, counted, api_gateway, read, write) in [
        ("logins", login, 1.0, login_read, login_write),
        ("refreshes", refresh, 1.0, token_read, refresh_write),
        ("authorizations", authorization, 0.0, token_read, 0.0),
    ] {
        let key = match what {
            "logins" => "login",
            "refreshes" => "refresh",
            _ => "authorization",
        };
        let (rru, wru) = per(counted, read, write);
        let billed = billed_ms(key);
        let bill = PerMillion::new(api_gateway, billed, rru, wru);
        let api = if api_gateway > 0.0 {
            format!("API Gateway ${:.2} + ", bill.api_gateway)
        } else {
            String::new()
        };
        let value = format!(
            "${:.2} = {api}Lambda ${:.3} (requests ${:.2} + {billed} ms ${:.3}) + DynamoDB ${:.3} \
             ({} RRU + {} WRU each)",
            bill.total(),
            bill.lambda_requests + bill.lambda_duration,
            bill.lambda_requests,
            bill.lambda_duration,
            bill.dynamodb,
            trim(rru),
            trim(wru),
        );
        let figure = match key {
            "authorization" => format!(
                "per million {what} (authorizer invocations: API Gateway caches an Allow 60 s \
                 per token, and bills the call it guards); duration: measured p50 here"
            ),
            _ => format!("per million {what}; duration: measured p50 here, rounded up"),
        };
        record(section, &figure, &value, "", Verdict::Info);
        rows.push(vec![what.to_owned(), value]);
    }
    let ten_ms = PerMillion::new(0.0, 10, 0.0, 0.0).lambda_duration;
    record(
        section,
        "what latency adds: the durations above are on loopback; on AWS each DynamoDB request \
         takes milliseconds and Twitter's users/me tens to hundreds",
        &format!("${ten_ms:.4} per million per 10 ms of duration"),
        "",
        Verdict::Info,
    );
    print_table(section, &["per million", "USD"], &rows);
    Ok(())
}
