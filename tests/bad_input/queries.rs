//! Properties 1 and 2: arbitrary query strings, every answer predicted by the model.

use proptest::prelude::*;

use crate::events::{V1Style, form_decode, http_api_event, raw_query, rest_event};
use crate::families::{Origin, http_api_uri_too_long, rest_uri_too_long};
use crate::model::model;
use crate::runner::{Expected, cases, run, run_expecting, runtime};
use crate::stats::Stats;
use crate::strategies::{query, raw_segments};
use crate::world::Fault;

#[test]
fn arbitrary_http_api_query_strings_get_the_contracts_answer() {
    let cases = cases(15_000);
    let rt = runtime();
    let stats = Stats::default();
    run("v2 query strings", cases, raw_segments(), |segments| {
        let raw = raw_query(&segments);
        let expected = if http_api_uri_too_long(&raw) {
            Expected::Malformed
        } else {
            let (code, ext_msg, mcc) = model(&form_decode(&raw), Fault::None);
            Expected::Answer(code, ext_msg, mcc)
        };
        let payload = http_api_event(&raw);
        run_expecting(
            &rt,
            Fault::None,
            &payload,
            Origin::HttpApi,
            expected,
            &stats,
        )?;
        Ok(())
    });
    stats.report("v2 query strings", cases);
    assert_reached_all_stages(&stats, cases);
}

#[test]
fn arbitrary_rest_api_query_parameters_get_the_contracts_answer() {
    let cases = cases(12_000);
    let rt = runtime();
    let stats = Stats::default();
    let style = prop_oneof![
        6 => Just(V1Style::Both),
        1 => Just(V1Style::MultiOnly),
        1 => Just(V1Style::SingleOnly),
    ];
    run(
        "v1 query maps",
        cases,
        (query(), style),
        |(pairs, style)| {
            let (payload, decoded) = rest_event(&pairs, style);
            let expected = if rest_uri_too_long(&decoded) {
                Expected::Malformed
            } else {
                let (code, ext_msg, mcc) = model(&decoded, Fault::None);
                Expected::Answer(code, ext_msg, mcc)
            };
            run_expecting(&rt, Fault::None, &payload, Origin::Rest, expected, &stats)?;
            Ok(())
        },
    );
    stats.report("v1 query maps", cases);
    assert_reached_all_stages(&stats, cases);
}

/// The arbitrary queries must reach every check the world without faults can answer.
fn assert_reached_all_stages(stats: &Stats, cases: u32) {
    if cases < 5_000 {
        return;
    }
    let codes = stats.codes();
    for code in [
        5023, 5013, 5569, 5570, 5218, 5550, 4001, 5015, 5104, 5000, 5420, 5574, 6085, 6084, 5368,
        200,
    ] {
        assert!(
            codes.contains_key(&code),
            "no case answered {code}: {codes:?}"
        );
    }
}
