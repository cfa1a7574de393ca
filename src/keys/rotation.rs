//! What one rotation does to the signing keys: `next` becomes `current`, `current` becomes
//! `previous`, the old `previous` is dropped and a new `next` is made; on an empty set, a
//! `current` and a `next`. So a key is published a whole rotation period before it signs, and
//! stays published a whole period after.

use super::jwk::{JwkSet, KeyError, KeyStatus, PrivateJwk, PublicJwk, generate};

/// The keys after one rotation of `keys`.
pub fn rotated(keys: &[PrivateJwk]) -> Result<Vec<PrivateJwk>, KeyError> {
    let with = |status: KeyStatus| keys.iter().find(|k| k.status == status).cloned();
    let (current, next) = (with(KeyStatus::Current), with(KeyStatus::Next));
    let mut after = Vec::new();
    match next {
        Some(mut next) => {
            next.status = KeyStatus::Current;
            after.push(next);
        }
        // A set without a `next` (the first rotation, or one a person edited) gets a new
        // current key: nothing published can be promoted.
        None => after.push(generate(KeyStatus::Current)?),
    }
    if let Some(mut current) = current {
        current.status = KeyStatus::Previous;
        after.push(current);
    }
    after.push(generate(KeyStatus::Next)?);
    Ok(after)
}

/// The public parts of every key: what the parameter and the JWKS publish.
pub fn published(keys: &[PrivateJwk]) -> JwkSet<PublicJwk> {
    JwkSet {
        keys: keys.iter().map(PrivateJwk::public).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(keys: &[PrivateJwk]) -> Vec<(String, KeyStatus)> {
        keys.iter().map(|k| (k.kid.clone(), k.status)).collect()
    }

    #[test]
    fn a_first_rotation_makes_a_current_and_a_next_key() {
        let keys = rotated(&[]).expect("keys");
        assert_eq!(
            keys.iter().map(|k| k.status).collect::<Vec<_>>(),
            [KeyStatus::Current, KeyStatus::Next]
        );
        assert_ne!(keys[0].kid, keys[1].kid);
    }

    #[test]
    fn each_rotation_moves_every_key_one_step() {
        let first = rotated(&[]).expect("keys");
        let (a, b) = (first[0].kid.clone(), first[1].kid.clone());
        let second = rotated(&first).expect("keys");
        let c = second[2].kid.clone();
        assert_eq!(
            statuses(&second),
            [
                (b.clone(), KeyStatus::Current),
                (a.clone(), KeyStatus::Previous),
                (c.clone(), KeyStatus::Next)
            ]
        );
        let third = rotated(&second).expect("keys");
        let d = third[2].kid.clone();
        assert_eq!(
            statuses(&third),
            [
                (c, KeyStatus::Current),
                (b, KeyStatus::Previous),
                (d, KeyStatus::Next)
            ],
            "the old previous key is dropped"
        );
        assert!(!third.iter().any(|k| k.kid == a));
        assert_eq!(published(&third).keys.len(), 3);
        assert_eq!(published(&third).keys[0], third[0].public());
    }
}
