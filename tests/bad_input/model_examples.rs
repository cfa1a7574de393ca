//! The model itself, on the contract's own examples, so that a wrong model cannot hide a bug.

use crate::events::{
    Encoding, Segment, V1Style, form_decode, http_api_event, raw_query, rest_event,
};
use crate::families::Origin;
use crate::model::{domain_format_ok, model, model_mcc};
use crate::runner::{Expected, run_expecting, runtime};
use crate::stats::Stats;
use crate::world::{
    BAD_APPS, BAD_APPS_SECRET, BAD_ENABLED, BROKEN_APP, BROKEN_MCC, ENABLED, ENABLED_SECRET,
    FB_APP, Fault, NO_SECRET, TW_APP, signed,
};

#[test]
fn the_model_agrees_with_the_contracts_examples() {
    for domain in ["C.DM.5903.1", "E.DM.1209906967672817.3", "U.SP.8589934603"] {
        assert!(domain_format_ok(domain), "{domain}");
    }
    for domain in [
        "c.DM.1",
        "C.DM.",
        "C.DM.1.12345",
        "C.DM.1\n",
        "C.DM.1.2.3",
        "C.D.1",
    ] {
        assert!(!domain_format_ok(domain), "{domain:?}");
    }
    assert_eq!(model_mcc("+7"), Some(7));
    assert_eq!(model_mcc("-2147483648"), Some(i32::MIN));
    assert_eq!(model_mcc("00000000000000000262"), Some(262));
    for bad in ["", "+", "2147483648", " 1", "0x1", "1e3", "--1"] {
        assert_eq!(model_mcc(bad), None, "{bad:?}");
    }
    let valid = signed(ENABLED, TW_APP, ENABLED_SECRET);
    assert_eq!(model(&valid, Fault::None), (200, "", None));
    assert_eq!(model(&[], Fault::None), (5023, "", None));
    let mut twice = valid.clone();
    twice.push(("appId".into(), TW_APP.into()));
    assert_eq!(model(&twice, Fault::None), (4001, "appId", None));
    assert_eq!(
        form_decode("a=1&&b=%zz&c+d=%E9&e&=f"),
        vec![
            ("a".into(), "1".into()),
            ("b".into(), "%zz".into()),
            ("c d".into(), "\u{fffd}".into()),
            ("e".into(), String::new()),
            (String::new(), "f".into()),
        ]
    );

    // And the endpoint agrees through both event kinds, including where a malformed attribute
    // stands in the order: after the checks before it, before the checks after it.
    let rt = runtime();
    let stats = Stats::default();
    let with = |mut pairs: Vec<(String, String)>, name: &str, value: &str| {
        pairs.retain(|(k, _)| k != name);
        pairs.push((name.into(), value.into()));
        pairs
    };
    let examples: Vec<(Vec<(String, String)>, u64)> = vec![
        (valid.clone(), 200),
        (with(valid.clone(), "mcc", "+0262"), 200),
        (with(valid.clone(), "mcc", &BROKEN_MCC.to_string()), 5000),
        (with(valid.clone(), "mcc", "999"), 6085),
        (signed(BAD_ENABLED, TW_APP, "wrong"), 5000),
        (signed(NO_SECRET, TW_APP, "wrong"), 5000),
        (signed(BAD_APPS, TW_APP, "wrong"), 5420),
        (signed(BAD_APPS, TW_APP, BAD_APPS_SECRET), 5000),
        (signed(ENABLED, BROKEN_APP, "wrong"), 5420),
        (signed(ENABLED, BROKEN_APP, ENABLED_SECRET), 5000),
        (signed(ENABLED, FB_APP, ENABLED_SECRET), 5574),
    ];
    for (pairs, code) in examples {
        let (want, ext_msg, mcc) = model(&pairs, Fault::None);
        assert_eq!(want, code, "the model on {pairs:?}");
        let expected = Expected::Answer(want, ext_msg, mcc);
        let (event, _) = rest_event(&pairs, V1Style::Both);
        run_expecting(&rt, Fault::None, &event, Origin::Rest, expected, &stats)
            .unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
    }
    let raw = raw_query(&[
        Segment::Pair("userDomain".into(), ENABLED.into(), Encoding::Form),
        Segment::Noise("%zz"),
    ]);
    let expected = Expected::Answer(5569, "", None);
    run_expecting(
        &rt,
        Fault::None,
        &http_api_event(&raw),
        Origin::HttpApi,
        expected,
        &stats,
    )
    .unwrap_or_else(|e| panic!("{raw}: {e}"));
}
