//! The HTTP edge: an API Gateway event in, the envelope out, one log line per request.

use std::time::Instant;

use lambda_http::{Body, Request, RequestExt, Response};

use crate::envelope;
use crate::login::{Directory, Login, TokenStore, TwitterVerifier};
use crate::request::LoginRequest;

pub struct Handler<S, T> {
    login: Login<S, T>,
}

impl<S, T> Handler<S, T>
where
    S: Directory + TokenStore + Sync,
    T: TwitterVerifier + Sync,
{
    pub fn new(login: Login<S, T>) -> Self {
        Handler { login }
    }

    pub fn login(&self) -> &Login<S, T> {
        &self.login
    }

    /// Answers one request. Never fails: every outcome is an envelope.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let parsed = LoginRequest::from_query(&request.query_string_parameters());
        let outcome = match &parsed {
            Ok(login_request) => self.login.login(login_request).await,
            Err(error) => Err(error.clone()),
        };
        let response = envelope::respond(&outcome);

        // Only values that passed the checks are logged: never a token, secret or signature.
        let (user_domain, app_id) = match &parsed {
            Ok(r) => (r.user_domain.as_str(), r.app_id.as_str()),
            Err(_) => ("", ""),
        };
        let request_id = request
            .lambda_context_ref()
            .map(|c| c.request_id.as_str())
            .unwrap_or("");
        let code = outcome.as_ref().map_or_else(|e| e.code(), |_| 200);
        let detail = outcome.as_ref().err().map_or("", |e| e.detail());
        tracing::info!(
            request_id,
            code,
            status = response.status().as_u16(),
            latency_us = started.elapsed().as_micros() as u64,
            user_domain,
            app_id,
            detail,
            "twitterAuthLogin"
        );
        response
    }
}
