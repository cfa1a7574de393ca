//! Login check 10 of `docs/openapi.yaml`: the request signature, `hex(SHA-256(appId + oauthToken + oauthTokenSecret + userDomainSecret))`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::request::LoginRequest;
use crate::domain::secret::Secret;

/// True when the request's signature is the expected one: hex of either case, compared in
/// constant time. A value that is not 64 hex digits can never match.
pub fn verify(request: &LoginRequest, user_domain_secret: &Secret) -> bool {
    let mut presented = [0u8; 32];
    if hex::decode_to_slice(request.signature.expose(), &mut presented).is_err() {
        return false;
    }
    let wanted = digest(
        &request.app_id,
        request.oauth_token.expose(),
        request.oauth_token_secret.expose(),
        user_domain_secret.expose(),
    );
    presented.ct_eq(wanted.as_slice()).into()
}

fn digest(
    app_id: &str,
    oauth_token: &str,
    oauth_token_secret: &str,
    user_domain_secret: &str,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in [app_id, oauth_token, oauth_token_secret, user_domain_secret] {
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user_domain::UserDomainName;

    /// The signature a client must send, as lowercase hex.
    fn expected(app_id: &str, token: &str, token_secret: &str, domain_secret: &str) -> String {
        hex::encode(digest(app_id, token, token_secret, domain_secret))
    }

    fn verify(request: &LoginRequest, user_domain_secret: &str) -> bool {
        super::verify(request, &Secret::new(user_domain_secret))
    }

    fn request(signature: &str) -> LoginRequest {
        LoginRequest {
            user_domain: UserDomainName::parse("C.DM.5903.1").expect("domain"),
            app_id: "app".into(),
            oauth_token: Secret::new("tok"),
            oauth_token_secret: Secret::new("sec"),
            signature: Secret::new(signature),
            mcc: None,
        }
    }

    // Independently computed: printf 'apptoksecdomainsecret' | sha256sum
    const APPTOKSEC_DOMAINSECRET: &str =
        "4513500256e643c375d094deeb020211742064356fedfdec373e5f9252dd8843";

    #[test]
    fn is_sha256_of_the_plain_concatenation() {
        assert_eq!(
            expected("app", "tok", "sec", "domainsecret"),
            APPTOKSEC_DOMAINSECRET
        );
        // UTF-8 bytes: printf 'apptoksecdomainséc' | sha256sum
        assert_eq!(
            expected("app", "tok", "sec", "domainséc"),
            "779640a714ae62272e3e05faa6d3f5db682e606fd121bd3709a6f5a025a56d88"
        );
    }

    #[test]
    fn accepts_either_hex_case() {
        assert!(verify(&request(APPTOKSEC_DOMAINSECRET), "domainsecret"));
        assert!(verify(
            &request(&APPTOKSEC_DOMAINSECRET.to_uppercase()),
            "domainsecret"
        ));
    }

    #[test]
    fn rejects_anything_else() {
        assert!(!verify(&request(APPTOKSEC_DOMAINSECRET), "othersecret"));
        let mut flipped = APPTOKSEC_DOMAINSECRET.to_owned();
        flipped.replace_range(63.., "4");
        for bad in [
            flipped.as_str(),
            &APPTOKSEC_DOMAINSECRET[..62],
            &format!("{APPTOKSEC_DOMAINSECRET}00"),
            &format!(" {}", &APPTOKSEC_DOMAINSECRET[1..]),
            &APPTOKSEC_DOMAINSECRET.replace('4', "g"),
            "",
        ] {
            assert!(!verify(&request(bad), "domainsecret"), "{bad:?}");
        }
    }
}
