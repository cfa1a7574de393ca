//! The model: the contract's checks, in order, over the decoded query.

use crate::world::{
    BAD_APPS, BAD_APPS_SECRET, BAD_ENABLED, BROKEN_APP, BROKEN_MCC, DISABLED, ENABLED,
    ENABLED_SECRET, FOREIGN_MCC, Fault, LOCAL_MCC, NO_SECRET, PARAMETERS, TOKEN, TOKEN_SECRET,
    TW_APP, sign,
};

/// The contract's codes: msg and HTTP status.
pub fn contract(code: u64) -> Option<(&'static str, u16)> {
    Some(match code {
        200 => ("success", 200),
        5023 => ("Please enter user domain", 200),
        5013 => ("User domain format incorrect", 200),
        5569 => ("Please enter oauthToken", 200),
        5570 => ("Please enter oauthTokenSecret", 200),
        5218 => ("Please enter appId", 200),
        5550 => ("Please enter signature", 200),
        4001 => ("Parameter format incorrect", 200),
        5015 => ("User domain does not exist", 200),
        5104 => ("User domain has been disabled", 200),
        5420 => ("Signature verification failed", 200),
        5574 => ("appId is not configured for this user domain", 200),
        6085 => ("Failed to query data center for MCC", 200),
        6084 => ("MCC does not belong to the current data center", 200),
        5367 => ("Request to Twitter failed", 503),
        5368 => ("Failed to get the Twitter user", 200),
        5369 => ("Failed to parse the Twitter user", 200),
        5001 => ("Service temporarily unavailable", 503),
        5000 => ("Internal error", 500),
        _ => return None,
    })
}

/// `^[A-Z]\.[A-Z]{2}\.[0-9]{1,20}(\.[0-9]{1,4})?$`, `$` being the very end.
pub fn domain_format_ok(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    let upper = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_uppercase());
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii_digit())
    };
    (parts.len() == 3 || parts.len() == 4)
        && upper(parts[0], 1)
        && upper(parts[1], 2)
        && digits(parts[2], 20)
        && (parts.len() == 3 || digits(parts[3], 4))
}

/// An int32 in decimal: an optional sign, then digits only.
pub fn model_mcc(raw: &str) -> Option<i32> {
    let (negative, digits) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 10 {
        return None;
    }
    let magnitude: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// What the contract says the endpoint answers to this decoded query: (code, extMsg, and on
/// success the mcc stored with the tokens).
pub fn model(pairs: &[(String, String)], fault: Fault) -> (u64, &'static str, Option<i32>) {
    let all = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let first = |name: &str| all(name).first().copied().unwrap_or("");
    let blank = |name: &str| first(name).trim().is_empty();

    if blank("userDomain") {
        return (5023, "", None);
    }
    if !domain_format_ok(first("userDomain")) {
        return (5013, "", None);
    }
    for (name, code) in [
        ("oauthToken", 5569),
        ("oauthTokenSecret", 5570),
        ("appId", 5218),
        ("signature", 5550),
    ] {
        if blank(name) {
            return (code, "", None);
        }
    }
    for name in PARAMETERS {
        let values = all(name);
        if values.len() > 1 || values.iter().any(|v| v.len() > 1024) {
            return (4001, name, None);
        }
    }
    let mcc = match all("mcc").first() {
        None => None,
        Some(raw) => match model_mcc(raw) {
            Some(mcc) => Some(mcc),
            None => return (4001, "mcc", None),
        },
    };

    match fault {
        Fault::StoreUnavailable => return (5001, "", None),
        Fault::StoreInternal => return (5000, "", None),
        _ => {}
    }
    let (domain, app_id, token, token_secret, signature) = (
        first("userDomain"),
        first("appId"),
        first("oauthToken"),
        first("oauthTokenSecret"),
        first("signature"),
    );
    // Checks 8 to 10; a malformed attribute answers 5000 where its check stands.
    let secret = match domain {
        ENABLED => ENABLED_SECRET,
        BAD_APPS => BAD_APPS_SECRET,
        DISABLED => return (5104, "", None),
        NO_SECRET | BAD_ENABLED => return (5000, "", None),
        _ => return (5015, "", None),
    };
    let expected = sign(app_id, token, token_secret, secret);
    if !signature.eq_ignore_ascii_case(&expected) {
        return (5420, "", None);
    }
    // Check 11.
    if domain == BAD_APPS || app_id == BROKEN_APP {
        return (5000, "", None);
    }
    if app_id != TW_APP {
        return (5574, "", None);
    }
    // Checks 12 and 13.
    match mcc {
        Some(LOCAL_MCC) | None => {}
        Some(FOREIGN_MCC) => return (6084, "", None),
        Some(BROKEN_MCC) => return (5000, "", None),
        Some(_) => return (6085, "", None),
    }
    // Checks 14 to 16.
    match fault {
        Fault::TwitterUnavailable => return (5367, "", None),
        Fault::TwitterRejects => return (5368, "", None),
        Fault::TwitterUnparsable => return (5369, "", None),
        _ => {}
    }
    if (token, token_secret) != (TOKEN, TOKEN_SECRET) {
        return (5368, "", None);
    }
    (200, "", mcc)
}
