//! Property 4: checks 8 to 16, reached with valid formats and, mostly, valid signatures.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::string::string_regex;

use crate::events::{Encoding, Segment, V1Style, http_api_event, raw_query, rest_event};
use crate::families::Origin;
use crate::model::model;
use crate::runner::{Expected, cases, run, run_expecting, runtime};
use crate::stats::Stats;
use crate::strategies::{any_text, name, value};
use crate::world::{
    BAD_APPS, BAD_APPS_SECRET, BAD_ENABLED, BROKEN_APP, BROKEN_MCC, DISABLED, DISABLED_SECRET,
    ENABLED, ENABLED_SECRET, FB_APP, FOREIGN_MCC, Fault, LOCAL_MCC, NO_SECRET, PARAMETERS, TOKEN,
    TOKEN_SECRET, TW_APP, sign,
};

#[derive(Debug, Clone)]
enum DomainPick {
    Enabled,
    Disabled,
    NoSecret,
    BadEnabled,
    BadApps,
    Unknown(String),
}

#[derive(Debug, Clone)]
enum SignaturePick {
    Valid,
    Uppercase,
    OtherSecret,
    Arbitrary(String),
}

#[derive(Debug, Clone)]
struct Deep {
    domain: DomainPick,
    app_id: String,
    credentials: (String, String),
    signature: SignaturePick,
    mcc: Option<(i32, u8)>,
    fault: Fault,
    extra: Vec<(String, String)>,
    v2: bool,
}

/// Non-blank text of at most 1024 bytes.
fn present_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (any::<char>().prop_filter("not blank", |c| !c.is_whitespace()), any_text(30))
            .prop_map(|(c, rest)| format!("{c}{rest}")),
        1 => (1000usize..=1024).prop_map(|n| "x".repeat(n)),
    ]
}

fn deep() -> impl Strategy<Value = Deep> {
    let domain = prop_oneof![
        12 => Just(DomainPick::Enabled),
        2 => Just(DomainPick::Disabled),
        1 => Just(DomainPick::NoSecret),
        1 => Just(DomainPick::BadEnabled),
        1 => Just(DomainPick::BadApps),
        2 => string_regex("[A-Z]\\.[A-Z]{2}\\.[0-9]{1,20}(\\.[0-9]{1,4})?")
            .expect("regex")
            .prop_filter("unknown", |d| {
                ![ENABLED, DISABLED, NO_SECRET, BAD_ENABLED, BAD_APPS].contains(&d.as_str())
            })
            .prop_map(DomainPick::Unknown),
    ];
    let app_id = prop_oneof![
        12 => Just(TW_APP.to_owned()),
        2 => Just(FB_APP.to_owned()),
        1 => Just(BROKEN_APP.to_owned()),
        4 => present_text(),
    ];
    let credentials = prop_oneof![
        4 => Just((TOKEN.to_owned(), TOKEN_SECRET.to_owned())),
        1 => (Just(TOKEN.to_owned()), present_text()),
        2 => (present_text(), present_text()),
    ];
    let signature = prop_oneof![
        10 => Just(SignaturePick::Valid),
        2 => Just(SignaturePick::Uppercase),
        1 => Just(SignaturePick::OtherSecret),
        1 => present_text().prop_map(SignaturePick::Arbitrary),
    ];
    let mcc_value = prop_oneof![
        6 => Just(LOCAL_MCC),
        2 => Just(FOREIGN_MCC),
        1 => Just(BROKEN_MCC),
        2 => any::<i32>(),
        2 => select(vec![0, i32::MIN, i32::MAX, -1]),
    ];
    let mcc = prop_oneof![
        2 => Just(None),
        3 => (mcc_value, 0u8..3).prop_map(Some),
    ];
    let fault = prop_oneof![
        12 => Just(Fault::None),
        1 => Just(Fault::StoreUnavailable),
        1 => Just(Fault::StoreInternal),
        1 => Just(Fault::TwitterUnavailable),
        1 => Just(Fault::TwitterRejects),
        1 => Just(Fault::TwitterUnparsable),
    ];
    let extra = vec(
        (name(), value()).prop_filter("not a contract parameter", |(n, _)| {
            !PARAMETERS.contains(&n.as_str())
        }),
        0..3,
    );
    (
        domain,
        app_id,
        credentials,
        signature,
        mcc,
        fault,
        extra,
        any::<bool>(),
    )
        .prop_map(
            |(domain, app_id, credentials, signature, mcc, fault, extra, v2)| Deep {
                domain,
                app_id,
                credentials,
                signature,
                mcc,
                fault,
                extra,
                v2,
            },
        )
}

fn deep_pairs(deep: &Deep) -> Vec<(String, String)> {
    let (domain, secret) = match &deep.domain {
        DomainPick::Enabled => (ENABLED.to_owned(), ENABLED_SECRET),
        DomainPick::Disabled => (DISABLED.to_owned(), DISABLED_SECRET),
        DomainPick::NoSecret => (NO_SECRET.to_owned(), "no-secret"),
        DomainPick::BadEnabled => (BAD_ENABLED.to_owned(), "bad-enabled-secret"),
        DomainPick::BadApps => (BAD_APPS.to_owned(), BAD_APPS_SECRET),
        DomainPick::Unknown(d) => (d.clone(), "unknown"),
    };
    let (token, token_secret) = &deep.credentials;
    let valid = sign(&deep.app_id, token, token_secret, secret);
    let signature = match &deep.signature {
        SignaturePick::Valid => valid,
        SignaturePick::Uppercase => valid.to_uppercase(),
        SignaturePick::OtherSecret => sign(&deep.app_id, token, token_secret, "other"),
        SignaturePick::Arbitrary(s) => s.clone(),
    };
    let mut pairs: Vec<(String, String)> = vec![
        ("userDomain".into(), domain),
        ("appId".into(), deep.app_id.clone()),
        ("oauthToken".into(), token.clone()),
        ("oauthTokenSecret".into(), token_secret.clone()),
        ("signature".into(), signature),
    ];
    if let Some((mcc, style)) = deep.mcc {
        let text = match (style, mcc >= 0) {
            (1, true) => format!("+{mcc}"),
            (2, true) => format!("00{mcc}"),
            (2, false) => format!("-00{}", mcc.unsigned_abs()),
            _ => mcc.to_string(),
        };
        pairs.push(("mcc".into(), text));
    }
    pairs.extend(deep.extra.iter().cloned());
    pairs
}

#[test]
fn deep_checks_answer_exactly_and_store_only_on_success() {
    let cases = cases(15_000);
    let rt = runtime();
    let stats = Stats::default();
    run("deep checks", cases, deep(), |deep| {
        let pairs = deep_pairs(&deep);
        let (code, ext_msg, mcc) = model(&pairs, deep.fault);
        prop_assert!(
            ![5023, 5013, 5569, 5570, 5218, 5550, 4001].contains(&code),
            "the strategy must pass checks 1 to 7: {:?}",
            pairs
        );
        let (payload, origin) = if deep.v2 {
            let segments: Vec<Segment> = pairs
                .iter()
                .map(|(k, v)| Segment::Pair(k.clone(), v.clone(), Encoding::Everything))
                .collect();
            (http_api_event(&raw_query(&segments)), Origin::HttpApi)
        } else {
            (rest_event(&pairs, V1Style::Both).0, Origin::Rest)
        };
        let expected = Expected::Answer(code, ext_msg, mcc);
        run_expecting(&rt, deep.fault, &payload, origin, expected, &stats)?;
        if code == 200 {
            // The model's mcc is the one sent, whatever its spelling.
            prop_assert_eq!(mcc, deep.mcc.map(|(m, _)| m));
        }
        Ok(())
    });
    stats.report("deep checks", cases);
    if cases >= 5_000 {
        let codes = stats.codes();
        for code in [
            5015, 5104, 5000, 5420, 5574, 6085, 6084, 5367, 5368, 5369, 5001, 200,
        ] {
            assert!(
                codes.contains_key(&code),
                "no case answered {code}: {codes:?}"
            );
        }
    }
}
