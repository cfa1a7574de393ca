//! OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849, section 3).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::InvalidLength;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use reqwest::Url;
use sha1::Sha1;

use crate::ports::TwitterCredentials;

/// RFC 5849 3.6: everything but ALPHA, DIGIT, '-', '.', '_' and '~' is encoded.
const RFC5849: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The value of the `Authorization` header for `method url`, signed with `credentials`.
/// The URL's query parameters are signed too; `nonce` and `timestamp` are the caller's so
/// the result is reproducible.
pub fn authorization_header(
    method: &str,
    url: &Url,
    credentials: &TwitterCredentials<'_>,
    nonce: &str,
    timestamp: u64,
) -> Result<String, InvalidLength> {
    let timestamp = timestamp.to_string();
    let protocol = [
        ("oauth_consumer_key", credentials.consumer_key),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_token", credentials.token.expose()),
        ("oauth_version", "1.0"),
    ];
    let query = query_octets(url.query().unwrap_or_default());
    let mut signed: Vec<(&[u8], &[u8])> = protocol
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    // RFC 5849 3.4.1.3.1: oauth_signature is never signed, whatever its source.
    signed.extend(
        query
            .iter()
            .filter(|(k, _)| k.as_slice() != b"oauth_signature")
            .map(|(k, v)| (k.as_slice(), v.as_slice())),
    );
    let signature = sign(
        method,
        &base_string_uri(url),
        &signed,
        credentials.consumer_secret.expose(),
        credentials.token_secret.expose(),
    )?;

    let mut header = String::from("OAuth ");
    for (i, (name, value)) in protocol
        .iter()
        .chain([&("oauth_signature", signature.as_str())])
        .enumerate()
    {
        if i > 0 {
            header.push_str(", ");
        }
        header.push_str(&format!("{name}=\"{}\"", encode(value)));
    }
    Ok(header)
}

/// A query's parameters as octets, decoded as a form is (RFC 5849 3.4.1.3.1): `+` is a space,
/// and percent-encoded octets stay octets, UTF-8 or not.
fn query_octets(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let decode = |part: &str| -> Vec<u8> {
        let spaced = part.replace('+', " ");
        percent_decode_str(&spaced).collect()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// The base64 HMAC-SHA1 signature of a request (RFC 5849 3.4.1 and 3.4.2). `params` are all
/// the parameters to sign, decoded to octets: protocol, query and form body alike.
pub fn sign<P: AsRef<[u8]>>(
    method: &str,
    base_uri: &str,
    params: &[(P, P)],
    consumer_secret: &str,
    token_secret: &str,
) -> Result<String, InvalidLength> {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| (encode_octets(name.as_ref()), encode_octets(value.as_ref())))
        .collect();
    encoded.sort();
    let normalized: Vec<String> = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let base_string = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalized.join("&"))
    );
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    // HMAC takes keys of any length; the error type is the trait's, not a real case.
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes())?;
    mac.update(base_string.as_bytes());
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

/// RFC 5849 3.4.1.2: scheme and host in lowercase, the port only when not the default, the
/// path, and neither query nor fragment.
pub fn base_string_uri(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{}:{}{}", url.scheme(), host, port, url.path()),
        None => format!("{}://{}{}", url.scheme(), host, url.path()),
    }
}

fn encode(value: &str) -> String {
    encode_octets(value.as_bytes())
}

fn encode_octets(value: &[u8]) -> String {
    percent_encode(value, RFC5849).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::Secret;

    /// Twitter's "Creating a signature" documentation, worked example.
    #[test]
    fn reproduces_twitters_documented_signature() {
        let params = [
            ("include_entities", "true"),
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            (
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            ("oauth_version", "1.0"),
        ];
        let signature = sign(
            "post",
            "https://api.twitter.com/1.1/statuses/update.json",
            &params,
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        )
        .expect("sign");
        assert_eq!(signature, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    }

    /// OAuth Core 1.0 appendix A.5: a GET whose parameters are in the query string, through
    /// the header builder.
    #[test]
    fn signs_query_parameters_in_the_header() {
        let url = Url::parse("http://PHOTOS.example.net:80/photos?file=vacation.jpg&size=original")
            .expect("url");
        let (consumer_secret, token, token_secret) = (
            Secret::new("kd94hf93k423kf44"),
            Secret::new("nnch734d00sl2jdk"),
            Secret::new("pfkkdhi9sl3r4s00"),
        );
        let credentials = TwitterCredentials {
            consumer_key: "dpf43f3p2l4k3l03",
            consumer_secret: &consumer_secret,
            token: &token,
            token_secret: &token_secret,
        };
        let header =
            authorization_header("GET", &url, &credentials, "kllo9940pd9333jh", 1191242096)
                .expect("sign");
        assert_eq!(
            header,
            "OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\", oauth_nonce=\"kllo9940pd9333jh\", \
             oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1191242096\", \
             oauth_token=\"nnch734d00sl2jdk\", oauth_version=\"1.0\", \
             oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\""
        );
    }

    #[test]
    fn base_string_uri_normalizes_scheme_host_and_port() {
        let uri = |s: &str| base_string_uri(&Url::parse(s).expect("url"));
        assert_eq!(
            uri("HTTPS://API.Twitter.com:443/2/users/me?x=1#f"),
            "https://api.twitter.com/2/users/me"
        );
        assert_eq!(
            uri("http://127.0.0.1:8080/2/users/me"),
            "http://127.0.0.1:8080/2/users/me"
        );
    }

    #[test]
    fn query_octets_are_read_as_a_form_and_kept_as_octets() {
        assert_eq!(
            query_octets("a+b=c%20d&e=%FF&&f&=g"),
            vec![
                (b"a b".to_vec(), b"c d".to_vec()),
                (b"e".to_vec(), vec![0xFF]),
                (b"f".to_vec(), Vec::new()),
                (Vec::new(), b"g".to_vec()),
            ]
        );
        assert_eq!(encode_octets(&[0xFF, b'a']), "%FFa");
    }

    #[test]
    fn encodes_per_rfc5849() {
        assert_eq!(
            encode("Ladies + Gentlemen!*'()~._-"),
            "Ladies%20%2B%20Gentlemen%21%2A%27%28%29~._-"
        );
        assert_eq!(encode("☃"), "%E2%98%83");
    }
}
