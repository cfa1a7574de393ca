//! Items in and out, the one home of the tables' item schema: what each write stores (the
//! functions' and the admin CLI's alike), each key, and each stored item read back into the
//! domain's types. What a reader cannot use is a [`Misprovision`] naming the item and the
//! attribute.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::Item;
use super::attr;
use crate::domain::grant::IssuedPair;
use crate::domain::listing::{PageCursor, StoredListing};
use crate::domain::secret::Secret;
use crate::domain::session::{
    SessionRecord, SessionStatus, SessionSummary, StoredToken, TokenKind, TokenOwner, TokenRecord,
};
use crate::domain::user::User;
use crate::domain::user_domain::{App, DomainState, TWITTER_PLATFORM, UserDomain, UserDomainName};
use crate::error::{Field, Misprovision};
use crate::ports::Ledger;

/// A string attribute value.
pub fn string_value(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// A number attribute value.
pub fn number_value(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A user domain item's key.
pub fn domain_key(user_domain: &str) -> Item {
    HashMap::from([(attr::USER_DOMAIN.to_owned(), string_value(user_domain))])
}

/// An MCC route item's key.
pub fn mcc_key(mcc: i32) -> Item {
    HashMap::from([(attr::MCC.to_owned(), number_value(mcc))])
}

/// A token item's key.
pub fn token_key(token_hash: &str) -> Item {
    HashMap::from([(attr::TOKEN_HASH.to_owned(), string_value(token_hash))])
}

/// A session item's key.
pub fn session_key(uid: &str, session_id: &str) -> Item {
    HashMap::from([
        (attr::UID.to_owned(), string_value(uid)),
        (attr::SESSION_ID.to_owned(), string_value(session_id)),
    ])
}

/// Where a page of the index of active sessions starts: after this entry.
pub fn active_session_key(uid: &str, cursor: &PageCursor) -> Item {
    let mut key = session_key(uid, &cursor.session_id);
    key.insert(
        attr::ACTIVE_SINCE.to_owned(),
        number_value(cursor.active_since),
    );
    key
}

/// A user item's key.
pub fn user_key(uid: &str) -> Item {
    HashMap::from([(attr::UID.to_owned(), string_value(uid))])
}

/// A new user domain, with no apps yet.
pub fn user_domain_item(user_domain: &UserDomainName, secret: &Secret, enabled: bool) -> Item {
    let mut item = domain_key(user_domain.as_str());
    item.insert(
        attr::USER_DOMAIN_SECRET.to_owned(),
        string_value(secret.expose()),
    );
    item.insert(attr::ENABLED.to_owned(), AttributeValue::Bool(enabled));
    item.insert(attr::APPS.to_owned(), AttributeValue::M(HashMap::new()));
    item
}

/// A Twitter app's entry in a user domain's `apps`.
pub fn twitter_app_entry(consumer_key: &str, consumer_secret: &Secret) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        (attr::PLATFORM.to_owned(), string_value(TWITTER_PLATFORM)),
        (attr::CONSUMER_KEY.to_owned(), string_value(consumer_key)),
        (
            attr::CONSUMER_SECRET.to_owned(),
            string_value(consumer_secret.expose()),
        ),
    ]))
}

/// An MCC route to a data center.
pub fn mcc_route_item(mcc: i32, data_center: &str) -> Item {
    let mut item = mcc_key(mcc);
    item.insert(attr::DATA_CENTER.to_owned(), string_value(data_center));
    item
}

/// Reads the attributes of one item, naming it in every fault.
struct Reader<'a> {
    item: &'a Item,
    name: String,
}

impl Reader<'_> {
    fn fault(&self, attribute: &str) -> Misprovision {
        Misprovision {
            item: self.name.clone(),
            attribute: attribute.to_owned(),
        }
    }

    /// A string that must be there and not empty.
    fn string(&self, attribute: &str) -> Field<String> {
        self.optional_string(attribute)?
            .ok_or_else(|| self.fault(attribute))
    }

    /// A string that may be missing; when there, it must be a non-empty string.
    fn optional_string(&self, attribute: &str) -> Field<Option<String>> {
        match self.item.get(attribute) {
            None => Ok(None),
            Some(AttributeValue::S(value)) if !value.is_empty() => Ok(Some(value.clone())),
            Some(_) => Err(self.fault(attribute)),
        }
    }

    fn number<T: std::str::FromStr>(&self, attribute: &str) -> Field<T> {
        self.optional_number(attribute)?
            .ok_or_else(|| self.fault(attribute))
    }

    fn optional_number<T: std::str::FromStr>(&self, attribute: &str) -> Field<Option<T>> {
        match self.item.get(attribute) {
            None => Ok(None),
            Some(AttributeValue::N(value)) => {
                value.parse().map(Some).map_err(|_| self.fault(attribute))
            }
            Some(_) => Err(self.fault(attribute)),
        }
    }
}

/// A missing `enabled` means disabled; anything but a BOOL is malformed.
fn enabled(reader: &Reader<'_>) -> Field<bool> {
    match reader.item.get(attr::ENABLED) {
        None => Ok(false),
        Some(AttributeValue::Bool(enabled)) => Ok(*enabled),
        Some(_) => Err(reader.fault(attr::ENABLED)),
    }
}

fn domain_reader<'a>(user_domain: &str, item: &'a Item) -> Reader<'a> {
    Reader {
        item,
        name: format!("user domain {user_domain}"),
    }
}

/// A user domain item, each attribute judged on its own.
pub fn user_domain(user_domain: &str, item: &Item) -> UserDomain {
    let reader = domain_reader(user_domain, item);
    let apps = match item.get(attr::APPS) {
        None => Ok(HashMap::new()),
        Some(AttributeValue::M(apps)) => Ok(apps
            .iter()
            .map(|(app_id, app)| (app_id.clone(), app_entry(&reader, app_id, app)))
            .collect()),
        Some(_) => Err(reader.fault(attr::APPS)),
    };
    UserDomain {
        state: DomainState {
            enabled: enabled(&reader),
        },
        secret: reader.string(attr::USER_DOMAIN_SECRET).map(Secret::new),
        apps,
    }
}

fn app_entry(domain: &Reader<'_>, app_id: &str, value: &AttributeValue) -> Field<App> {
    let path = format!("{}.{app_id}", attr::APPS);
    let AttributeValue::M(fields) = value else {
        return Err(domain.fault(&path));
    };
    let field = |name: &str| match fields.get(name) {
        Some(AttributeValue::S(value)) if !value.is_empty() => Ok(value.clone()),
        _ => Err(domain.fault(&format!("{path}.{name}"))),
    };
    Ok(App {
        platform: field(attr::PLATFORM)?,
        consumer_key: field(attr::CONSUMER_KEY)?,
        consumer_secret: Secret::new(field(attr::CONSUMER_SECRET)?),
    })
}

/// What the token checks read of a user domain: only `enabled`.
pub fn domain_state(user_domain: &str, item: &Item) -> DomainState {
    DomainState {
        enabled: enabled(&domain_reader(user_domain, item)),
    }
}

/// An MCC route's data center.
pub fn route_data_center(mcc: i32, item: &Item) -> Field<String> {
    Reader {
        item,
        name: format!("MCC route {mcc}"),
    }
    .string(attr::DATA_CENTER)
}

/// A token item: everything the contract lists, the raw token never.
pub fn token_item(pair: &IssuedPair, kind: TokenKind, token: &StoredToken) -> Item {
    let owner = &pair.owner;
    let mut item = HashMap::from([
        (attr::TOKEN_HASH.to_owned(), string_value(&token.hash)),
        (attr::KIND.to_owned(), string_value(kind.as_str())),
        (attr::PAIR_ID.to_owned(), string_value(&pair.pair_id)),
        (
            attr::USER_DOMAIN.to_owned(),
            string_value(owner.user_domain.as_str()),
        ),
        (attr::APP_ID.to_owned(), string_value(&owner.app_id)),
        (
            attr::TWITTER_USER_ID.to_owned(),
            string_value(&owner.twitter_user_id),
        ),
        (attr::ISSUED_AT.to_owned(), number_value(pair.issued_at)),
        (
            attr::EXPIRATION_TIME.to_owned(),
            number_value(token.expiration_time),
        ),
        (attr::UID.to_owned(), string_value(&owner.uid)),
        (attr::SESSION_ID.to_owned(), string_value(&owner.session_id)),
    ]);
    if let Some(username) = &owner.twitter_username {
        item.insert(attr::TWITTER_USERNAME.to_owned(), string_value(username));
    }
    if let Some(mcc) = owner.mcc {
        item.insert(attr::MCC.to_owned(), number_value(mcc));
    }
    item
}

/// A token item read back. Our own writes made it, so a fault here is data damage.
pub fn token_record(item: &Item) -> Field<TokenRecord> {
    let reader = Reader {
        item,
        name: "token".to_owned(),
    };
    let kind =
        TokenKind::parse(&reader.string(attr::KIND)?).ok_or_else(|| reader.fault(attr::KIND))?;
    Ok(TokenRecord {
        kind,
        owner: TokenOwner {
            uid: reader.string(attr::UID)?,
            session_id: reader.string(attr::SESSION_ID)?,
            user_domain: UserDomainName::parse(&reader.string(attr::USER_DOMAIN)?)
                .ok_or_else(|| reader.fault(attr::USER_DOMAIN))?,
            app_id: reader.string(attr::APP_ID)?,
            twitter_user_id: reader.string(attr::TWITTER_USER_ID)?,
            twitter_username: reader.optional_string(attr::TWITTER_USERNAME)?,
            mcc: reader.optional_number(attr::MCC)?,
        },
        expiration_time: reader.number(attr::EXPIRATION_TIME)?,
    })
}

/// The session item a login creates: active (so in the index of active sessions), naming its
/// first pair, with the login's `User-Agent` when it sent one.
pub fn session_item(pair: &IssuedPair, session_end: u64, user_agent: &str) -> Item {
    let owner = &pair.owner;
    let mut item = HashMap::from([
        (attr::UID.to_owned(), string_value(&owner.uid)),
        (attr::SESSION_ID.to_owned(), string_value(&owner.session_id)),
        (attr::APP_ID.to_owned(), string_value(&owner.app_id)),
        (
            attr::USER_DOMAIN.to_owned(),
            string_value(owner.user_domain.as_str()),
        ),
        (attr::CREATED_AT.to_owned(), number_value(pair.issued_at)),
        (attr::ACTIVE_SINCE.to_owned(), number_value(pair.issued_at)),
        (attr::LAST_USED_AT.to_owned(), number_value(pair.issued_at)),
        (
            attr::STATUS.to_owned(),
            string_value(SessionStatus::Active.as_str()),
        ),
        (
            attr::ACCESS_TOKEN_HASH.to_owned(),
            string_value(&pair.access.hash),
        ),
        (
            attr::REFRESH_TOKEN_HASH.to_owned(),
            string_value(&pair.refresh.hash),
        ),
        (
            attr::ACCESS_KEY_ID.to_owned(),
            string_value(&pair.access_key_id),
        ),
        (attr::EXPIRATION_TIME.to_owned(), number_value(session_end)),
    ]);
    if !user_agent.is_empty() {
        item.insert(attr::USER_AGENT.to_owned(), string_value(user_agent));
    }
    item
}

/// A session item read back.
pub fn session_record(item: &Item) -> Field<SessionRecord> {
    let reader = session_reader(item);
    Ok(SessionRecord {
        uid: reader.string(attr::UID)?,
        session_id: reader.string(attr::SESSION_ID)?,
        app_id: reader.string(attr::APP_ID)?,
        user_domain: reader.string(attr::USER_DOMAIN)?,
        created_at: reader.number(attr::CREATED_AT)?,
        status: SessionStatus::parse(&reader.string(attr::STATUS)?),
        access_token_hash: reader.string(attr::ACCESS_TOKEN_HASH)?,
        refresh_token_hash: reader.string(attr::REFRESH_TOKEN_HASH)?,
        previous_refresh_token_hash: reader.optional_string(attr::PREVIOUS_REFRESH_TOKEN_HASH)?,
        rotated_at: reader.optional_number(attr::ROTATED_AT)?,
        access_key_id: reader.optional_string(attr::ACCESS_KEY_ID)?,
        expiration_time: reader.number(attr::EXPIRATION_TIME)?,
    })
}

fn session_reader(item: &Item) -> Reader<'_> {
    Reader {
        item,
        name: "session".to_owned(),
    }
}

/// An active session as the index lists it for a login or a logout.
pub fn session_summary(item: &Item) -> Field<SessionSummary> {
    let reader = session_reader(item);
    Ok(SessionSummary {
        session_id: reader.string(attr::SESSION_ID)?,
        created_at: reader.number(attr::CREATED_AT)?,
        expiration_time: reader.number(attr::EXPIRATION_TIME)?,
    })
}

/// An active session as the index lists it for its user: what the index projects.
pub fn stored_listing(item: &Item) -> Field<StoredListing> {
    let reader = session_reader(item);
    let created_at = reader.number(attr::CREATED_AT)?;
    Ok(StoredListing {
        session_id: reader.string(attr::SESSION_ID)?,
        app_id: reader.string(attr::APP_ID)?,
        created_at,
        last_used_at: reader
            .optional_number(attr::LAST_USED_AT)?
            .unwrap_or(created_at),
        user_agent: reader
            .optional_string(attr::USER_AGENT)?
            .unwrap_or_default(),
        expiration_time: reader.number(attr::EXPIRATION_TIME)?,
        status: SessionStatus::parse(&reader.string(attr::STATUS)?),
    })
}

/// Where an entry of the index of active sessions stands in it.
pub fn listing_cursor(item: &Item) -> Field<PageCursor> {
    let reader = session_reader(item);
    Ok(PageCursor {
        active_since: reader.number(attr::ACTIVE_SINCE)?,
        session_id: reader.string(attr::SESSION_ID)?,
    })
}

/// A user's ledger of live sessions, as the item holds it: zeros when it has none yet.
pub fn session_ledger(item: &Item) -> Field<Ledger> {
    let reader = Reader {
        item,
        name: "user".to_owned(),
    };
    let number = |name| reader.optional_number(name).map(Option::unwrap_or_default);
    Ok(Ledger {
        sessions: number(attr::SESSION_LEDGER)?,
        writes: number(attr::SESSION_LEDGER_WRITES)?,
    })
}

/// A user item read back.
pub fn user_record(item: &Item) -> Field<User> {
    let reader = Reader {
        item,
        name: "user".to_owned(),
    };
    Ok(User {
        uid: reader.string(attr::UID)?,
        user_domain: reader.string(attr::USER_DOMAIN)?,
        twitter_user_id: reader.string(attr::TWITTER_USER_ID)?,
        twitter_username: reader.optional_string(attr::TWITTER_USERNAME)?,
        register_time: reader.number(attr::REGISTER_TIME)?,
        last_login_time: reader.number(attr::LAST_LOGIN_TIME)?,
        status: reader.number(attr::STATUS)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(username: Option<&str>, mcc: Option<i32>) -> IssuedPair {
        IssuedPair {
            pair_id: "p".into(),
            issued_at: 100,
            owner: TokenOwner {
                uid: "u".into(),
                session_id: "sid".into(),
                user_domain: UserDomainName::parse("C.DM.1").expect("domain"),
                app_id: "app".into(),
                twitter_user_id: "42".into(),
                twitter_username: username.map(str::to_owned),
                mcc,
            },
            access: StoredToken {
                hash: "aa".into(),
                expiration_time: 7300,
            },
            refresh: StoredToken {
                hash: "rr".into(),
                expiration_time: 2_592_100,
            },
            access_key_id: "kid".into(),
        }
    }

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn token_items_hold_the_contract_attributes_and_read_back() {
        let pair = pair(Some("jack"), Some(460));
        let stored = token_item(&pair, TokenKind::Refresh, &pair.refresh);
        let expected = item(&[
            ("tokenHash", string_value("rr")),
            ("kind", string_value("refresh")),
            ("pairId", string_value("p")),
            ("userDomain", string_value("C.DM.1")),
            ("appId", string_value("app")),
            ("twitterUserId", string_value("42")),
            ("twitterUsername", string_value("jack")),
            ("issuedAt", number_value(100)),
            ("expirationTime", number_value(2_592_100)),
            ("mcc", number_value(460)),
            ("uid", string_value("u")),
            ("sessionId", string_value("sid")),
        ]);
        assert_eq!(stored, expected);
        assert_eq!(
            token_record(&stored),
            Ok(TokenRecord {
                kind: TokenKind::Refresh,
                owner: pair.owner.clone(),
                expiration_time: 2_592_100,
            })
        );

        let bare = self::pair(None, None);
        let stored = token_item(&bare, TokenKind::Access, &bare.access);
        assert!(!stored.contains_key("mcc") && !stored.contains_key("twitterUsername"));
        assert_eq!(stored["expirationTime"], number_value(7300));
        assert_eq!(token_record(&stored).map(|r| r.owner), Ok(bare.owner));
    }

    #[test]
    fn session_items_read_back() {
        let pair = pair(None, None);
        let stored = session_item(&pair, 900, "");
        assert!(!stored.contains_key("userAgent"), "none sent, none stored");
        assert_eq!(
            (&stored["activeSince"], &stored["lastUsedAt"]),
            (&number_value(100), &number_value(100))
        );
        let record = session_record(&stored).expect("session");
        assert_eq!(record.status, SessionStatus::Active);
        assert_eq!(record.access_token_hash, "aa");
        assert_eq!(record.refresh_token_hash, "rr");
        assert_eq!(record.previous_refresh_token_hash, None);
        assert_eq!((record.created_at, record.expiration_time), (100, 900));
        let mut broken = stored.clone();
        broken.insert("createdAt".into(), string_value("yesterday"));
        assert_eq!(
            session_record(&broken).map_err(|f| f.attribute),
            Err("createdAt".to_owned())
        );

        let with_agent = session_item(&pair, 900, "Mozilla/5.0");
        let listed = stored_listing(&with_agent).expect("listing");
        assert_eq!(
            listed,
            StoredListing {
                session_id: "sid".into(),
                app_id: "app".into(),
                created_at: 100,
                last_used_at: 100,
                user_agent: "Mozilla/5.0".into(),
                expiration_time: 900,
                status: SessionStatus::Active,
            }
        );
        assert_eq!(
            listing_cursor(&with_agent),
            Ok(PageCursor {
                active_since: 100,
                session_id: "sid".into()
            })
        );
        // A session stored before the listing knew these attributes lists as used at login.
        let mut older = with_agent;
        older.remove("lastUsedAt");
        older.remove("userAgent");
        let listed = stored_listing(&older).expect("listing");
        assert_eq!((listed.last_used_at, listed.user_agent.as_str()), (100, ""));
    }

    #[test]
    fn user_domain_attributes_are_judged_one_by_one() {
        let app = |fields: &[(&str, &str)]| {
            AttributeValue::M(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), string_value(v)))
                    .collect(),
            )
        };
        let full = [
            ("platform", "twitter"),
            ("consumerKey", "ck"),
            ("consumerSecret", "cs"),
        ];
        let stored = item(&[
            ("userDomain", string_value("C.DM.1")),
            ("userDomainSecret", string_value("s3cret")),
            ("enabled", AttributeValue::Bool(true)),
            (
                "apps",
                AttributeValue::M(HashMap::from([
                    ("tw".to_owned(), app(&full)),
                    ("nokey".to_owned(), app(&full[..1])),
                    ("odd".to_owned(), string_value("x")),
                ])),
            ),
        ]);
        let domain = user_domain("C.DM.1", &stored);
        assert_eq!(domain.state.enabled, Ok(true));
        assert_eq!(domain.secret.as_ref().map(Secret::expose), Ok("s3cret"));
        let apps = domain.apps.expect("apps");
        assert_eq!(
            apps["tw"].as_ref().map(|a| a.consumer_key.as_str()),
            Ok("ck")
        );
        let fault = |item: &str, attribute: &str| Misprovision {
            item: item.to_owned(),
            attribute: attribute.to_owned(),
        };
        assert_eq!(
            apps["nokey"],
            Err(fault("user domain C.DM.1", "apps.nokey.consumerKey"))
        );
        assert_eq!(apps["odd"], Err(fault("user domain C.DM.1", "apps.odd")));

        let bare = user_domain("C.DM.1", &item(&[("userDomain", string_value("C.DM.1"))]));
        assert_eq!(
            bare.state.enabled,
            Ok(false),
            "a missing enabled means disabled"
        );
        assert_eq!(
            bare.secret,
            Err(fault("user domain C.DM.1", "userDomainSecret"))
        );
        assert_eq!(bare.apps, Ok(HashMap::new()));

        let wrong = user_domain(
            "C.DM.1",
            &item(&[
                ("enabled", string_value("true")),
                ("userDomainSecret", string_value("")),
                ("apps", string_value("none")),
            ]),
        );
        assert_eq!(
            wrong.state.enabled,
            Err(fault("user domain C.DM.1", "enabled"))
        );
        assert_eq!(
            wrong.secret,
            Err(fault("user domain C.DM.1", "userDomainSecret"))
        );
        assert_eq!(wrong.apps, Err(fault("user domain C.DM.1", "apps")));
        assert_eq!(
            domain_state("C.DM.1", &item(&[("enabled", number_value(1))])).enabled,
            Err(fault("user domain C.DM.1", "enabled"))
        );
    }

    #[test]
    fn a_route_needs_a_string_data_center() {
        assert_eq!(
            route_data_center(262, &item(&[("dataCenter", string_value("eu"))])),
            Ok("eu".to_owned())
        );
        for bad in [
            item(&[]),
            item(&[("dataCenter", number_value(1))]),
            item(&[("dataCenter", string_value(""))]),
        ] {
            assert_eq!(
                route_data_center(262, &bad),
                Err(Misprovision {
                    item: "MCC route 262".into(),
                    attribute: "dataCenter".into()
                })
            );
        }
    }
}
