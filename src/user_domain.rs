//! User domains' names.

/// A user domain's name, `C.DM.5903.1` (region letter, kind, number, optional suffix):
/// `^[A-Z]\.[A-Z]{2}\.[0-9]{1,20}(\.[0-9]{1,4})?$`, with `$` as the true end (no trailing newline).
pub fn is_user_domain(value: &str) -> bool {
    let upper =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_uppercase());
    let digits = |part: &str, max: usize| {
        (1..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    let mut parts = value.split('.');
    let (Some(region), Some(kind), Some(number)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let suffix_ok = match (parts.next(), parts.next()) {
        (None, _) => true,
        (Some(suffix), None) => digits(suffix, 4),
        (Some(_), Some(_)) => false,
    };
    upper(region, 1) && upper(kind, 2) && digits(number, 20) && suffix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_contract_examples() {
        for domain in ["C.DM.5903.1", "E.DM.1209906967672817.3", "U.SP.8589934603"] {
            assert!(is_user_domain(domain), "{domain}");
        }
        assert!(is_user_domain("C.DM.12345678901234567890.1234"));
    }

    #[test]
    fn rejects_near_misses_of_the_pattern() {
        for domain in [
            "c.DM.5903",
            "C.Dm.5903",
            "C.DMX.5903",
            "C.DM.",
            "C.DM.5903.",
            "C.DM.5903.12345",
            "C.DM.123456789012345678901",
            "C.DM.5903.1.2",
            "C.DM.5903\n",
            " C.DM.5903",
            "CC.DM.1",
            "C.DM.59a3",
            "C.DM",
            "",
            "Ｃ.DM.1",
            "C.DM.١٢",
        ] {
            assert!(!is_user_domain(domain), "{domain:?}");
        }
    }
}
