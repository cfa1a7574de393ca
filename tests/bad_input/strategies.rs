//! Strategies the properties share: decoded queries, and raw query strings made of them.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::string::string_regex;

use crate::events::{Encoding, Segment};
use crate::world::{
    BAD_APPS, BAD_APPS_SECRET, BAD_ENABLED, BROKEN_APP, BROKEN_MCC, DISABLED, DISABLED_SECRET,
    ENABLED, ENABLED_SECRET, FB_APP, FOREIGN_MCC, LOCAL_MCC, NO_SECRET, PARAMETERS, TOKEN,
    TOKEN_SECRET, TW_APP, sign, signed,
};

/// Where arbitrary queries start from: nothing, or a login that stops at one of checks 8 to 16.
fn bases() -> Vec<Vec<(String, String)>> {
    let valid = signed(ENABLED, TW_APP, ENABLED_SECRET);
    let with_mcc = |mcc: i32| {
        let mut params = valid.clone();
        params.push(("mcc".into(), mcc.to_string()));
        params
    };
    // Signed for a token Twitter does not know.
    let stranger: Vec<(String, String)> = [
        ("userDomain", ENABLED.to_owned()),
        ("appId", TW_APP.to_owned()),
        ("oauthToken", "stranger".to_owned()),
        ("oauthTokenSecret", TOKEN_SECRET.to_owned()),
        (
            "signature",
            sign(TW_APP, "stranger", TOKEN_SECRET, ENABLED_SECRET),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    vec![
        vec![],
        valid.clone(),
        with_mcc(LOCAL_MCC),
        with_mcc(FOREIGN_MCC),
        with_mcc(999),
        with_mcc(BROKEN_MCC),
        signed("Z.ZZ.42", TW_APP, "unknown"),
        signed(DISABLED, TW_APP, DISABLED_SECRET),
        signed(NO_SECRET, TW_APP, "none"),
        signed(BAD_ENABLED, TW_APP, "none"),
        signed(BAD_APPS, TW_APP, BAD_APPS_SECRET),
        signed(ENABLED, FB_APP, ENABLED_SECRET),
        signed(ENABLED, BROKEN_APP, ENABLED_SECRET),
        stranger,
    ]
}

pub fn any_text(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// Parameter names: mostly the contract's, then near misses and anything at all.
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(PARAMETERS.to_vec()).prop_map(str::to_owned),
        2 => select(vec![
            "userdomain", "UserDomain", "appid", "APPID", "oauth_token", "oauthtoken",
            "OAuthTokenSecret", "Signature", "MCC", "mcc ", " appId", "appId[]", "app Id",
            "userDomain\0", "ｍcc",
        ])
        .prop_map(str::to_owned),
        2 => any_text(12),
        1 => Just(String::new()),
    ]
}

/// Parameter values: empty, blank, unicode, near and far over 1024 bytes, numbers, domains.
pub fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        2 => string_regex("[ \t\n\r\u{0b}\u{0c}\u{a0}\u{85}\u{2003}\u{3000}]{1,4}").expect("regex"),
        6 => any_text(24),
        4 => string_regex("[ -~]{0,24}").expect("regex"),
        3 => string_regex("[+-]?[0-9]{0,12}").expect("regex"),
        2 => select(vec![
            "0", "460", "262", "505", "+262", "0262", "-0", "2147483647", "-2147483648",
            "2147483648", "-2147483649", "00000000000000000000262", "0x1F", "1e3", "4.6",
            " 262", "262 ", "262\n", "٢٦٢", "+", "-", "--1",
        ])
        .prop_map(str::to_owned),
        3 => string_regex("[A-Za-z]{1,2}\\.[A-Za-z]{1,3}\\.[0-9]{0,22}(\\.[0-9]{0,5}){0,2}\n?")
            .expect("regex"),
        1 => select(vec![
            ENABLED, DISABLED, NO_SECRET, BAD_ENABLED, BAD_APPS, TW_APP, FB_APP, BROKEN_APP,
            TOKEN, TOKEN_SECRET,
        ])
        .prop_map(str::to_owned),
        2 => string_regex("[0-9a-fA-F]{63,65}").expect("regex"),
        2 => (1020usize..1030, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
        // Up to 12 KB: API Gateway refuses request lines and headers over 10 KB.
        1 => (1usize..12_000).prop_map(|n| "v".repeat(n)),
    ]
}

/// One change to a base query.
#[derive(Debug, Clone)]
enum Edit {
    Add(String, String),
    Drop(Index),
    Replace(Index, String),
    Repeat(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (name(), value()).prop_map(|(n, v)| Edit::Add(n, v)),
        2 => any::<Index>().prop_map(Edit::Drop),
        3 => (any::<Index>(), value()).prop_map(|(i, v)| Edit::Replace(i, v)),
        1 => any::<Index>().prop_map(Edit::Repeat),
    ]
}

fn apply(mut pairs: Vec<(String, String)>, edits: &[Edit]) -> Vec<(String, String)> {
    for edit in edits {
        match edit {
            Edit::Add(name, value) => pairs.push((name.clone(), value.clone())),
            Edit::Drop(i) if !pairs.is_empty() => {
                pairs.remove(i.index(pairs.len()));
            }
            Edit::Replace(i, value) if !pairs.is_empty() => {
                let i = i.index(pairs.len());
                pairs[i].1 = value.clone();
            }
            Edit::Repeat(i) if !pairs.is_empty() => {
                let pair = pairs[i.index(pairs.len())].clone();
                pairs.push(pair);
            }
            _ => {}
        }
    }
    pairs
}

/// Decoded queries: a base and up to six edits, in any order.
pub fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    (select(bases()), vec(edit(), 0..6))
        .prop_map(|(base, edits)| apply(base, &edits))
        .prop_shuffle()
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Everything),
        Just(Encoding::Form),
        Just(Encoding::LowerHex)
    ]
}

fn noise() -> impl Strategy<Value = &'static str> {
    select(vec![
        "",
        "&",
        "=",
        "==",
        "a=b=c",
        "%",
        "%zz",
        "%4",
        "%E9",
        "%C3",
        "%FF%FE",
        "%C0%AF",
        "+",
        "++=+",
        "appId",
        "mcc",
        "signature=",
        "%61ppId=x",
        "userDomain%3DC.DM.1",
    ])
}

/// A raw v2 query: the pairs of a decoded query, each encoded its own way, with noise and
/// arbitrary percent-encoded bytes mixed in.
pub fn raw_segments() -> impl Strategy<Value = Vec<Segment>> {
    (
        query(),
        vec(encoding(), 16),
        vec((any::<Index>(), noise()), 0..3),
        vec((any::<Index>(), name(), vec(any::<u8>(), 0..16)), 0..2),
    )
        .prop_map(|(pairs, encodings, noises, byte_values)| {
            let mut segments: Vec<Segment> = pairs
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| Segment::Pair(k, v, encodings[i % encodings.len()]))
                .collect();
            for (at, noise) in noises {
                segments.insert(at.index(segments.len() + 1), Segment::Noise(noise));
            }
            for (at, name, bytes) in byte_values {
                segments.insert(at.index(segments.len() + 1), Segment::Bytes(name, bytes));
            }
            segments
        })
}
