//! Reading parameters the way every endpoint does: from the query string, from an
//! `application/x-www-form-urlencoded` body, and a token from the `Authorization` header.

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request, RequestExt};

use crate::error::ApiError;

/// Longest value, in bytes, any parameter may have.
pub const MAX_PARAMETER_BYTES: usize = 1024;

/// `value` unless it is empty or blank, which answers `missing`.
pub fn required(value: &str, missing: ApiError) -> Result<&str, ApiError> {
    if value.trim().is_empty() {
        Err(missing)
    } else {
        Ok(value)
    }
}

/// Every value of `name`, from the query string first, then from a form body.
pub fn query_and_form_values(request: &Request, name: &str) -> Vec<String> {
    let mut values: Vec<String> = request
        .query_string_parameters_ref()
        .and_then(|query| query.all(name))
        .unwrap_or_default()
        .into_iter()
        .map(str::to_owned)
        .collect();
    if is_form(request) {
        let body: &[u8] = match request.body() {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        values.extend(
            form_urlencoded::parse(body)
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned()),
        );
    }
    values
}

fn is_form(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| {
            media_type
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The one value of a parameter: the first must be there and not blank (else `missing`); it
/// must be given once and be at most [`MAX_PARAMETER_BYTES`] (else 4001 naming `name`).
pub fn single<'a>(
    values: &'a [String],
    name: &'static str,
    missing: ApiError,
) -> Result<&'a str, ApiError> {
    let first = required(values.first().map_or("", String::as_str), missing)?;
    if values.len() > 1 || first.len() > MAX_PARAMETER_BYTES {
        return Err(ApiError::ParameterFormat(name));
    }
    Ok(first)
}

/// The token in an `Authorization` header value: `Bearer <token>` (the scheme in any case)
/// or the raw token. `Bearer` alone carries no token.
pub fn authorization_token(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim_start(),
        None if value.eq_ignore_ascii_case("bearer") => "",
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_or_raw() {
        assert_eq!(authorization_token("Bearer abc"), "abc");
        assert_eq!(authorization_token("bearer   abc"), "abc");
        assert_eq!(authorization_token("BEARER abc "), "abc");
        assert_eq!(authorization_token("abc"), "abc");
        assert_eq!(authorization_token(" abc"), "abc");
        assert_eq!(authorization_token("Basic abc"), "Basic abc");
        assert_eq!(authorization_token("Bearer"), "");
        assert_eq!(authorization_token("bearer  "), "");
        assert_eq!(authorization_token("Bearerabc"), "Bearerabc");
    }

    #[test]
    fn single_wants_one_short_non_blank_value() {
        let missing = ApiError::MissingToken;
        let one = vec!["t".to_owned()];
        assert_eq!(single(&one, "refreshToken", missing.clone()), Ok("t"));
        assert_eq!(
            single(&[], "refreshToken", missing.clone()),
            Err(missing.clone())
        );
        let blank = vec![" \t".to_owned()];
        assert_eq!(
            single(&blank, "refreshToken", missing.clone()),
            Err(missing.clone())
        );
        let two = vec!["t".to_owned(), "u".to_owned()];
        assert_eq!(
            single(&two, "refreshToken", missing.clone()),
            Err(ApiError::ParameterFormat("refreshToken"))
        );
        let long = vec!["t".repeat(MAX_PARAMETER_BYTES + 1)];
        assert_eq!(
            single(&long, "refreshToken", missing.clone()),
            Err(ApiError::ParameterFormat("refreshToken"))
        );
        let at_limit = vec!["t".repeat(MAX_PARAMETER_BYTES)];
        assert!(single(&at_limit, "refreshToken", missing).is_ok());
    }
}
