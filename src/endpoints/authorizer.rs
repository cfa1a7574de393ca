//! The API Gateway `REQUEST` authorizer: lets any route of the stage trust the access token in
//! `Authorization` (raw or `Bearer`), with one DynamoDB request per check. Routes behind it
//! receive the end user in the request context and never see a token.
//!
//! Its answers, as API Gateway reads them:
//! - a live token of an enabled user domain: an Allow for every method of the stage;
//! - a token of a user domain that is gone or disabled: a Deny;
//! - no token, or one that is unknown, expired or revoked: the error `Unauthorized` (401);
//! - DynamoDB failing: another error, never a Deny, since a Deny would be cached.

use std::sync::Arc;
use std::time::Instant;

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use lambda_http::aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use lambda_http::http::header::AUTHORIZATION;
use lambda_http::lambda_runtime::{self, Diagnostic, LambdaEvent};
use lambda_http::{BoxFuture, Error, service_fn};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::endpoints::domain_usable;
use crate::error::ApiError;
use crate::http::params::authorization_token;
use crate::metrics;
use crate::ports::TokenReader;
use crate::scope;
use crate::session::{self, Lifetimes, TokenKind};
use crate::token::PresentedToken;

/// The operation's name in log lines and metrics.
pub const OPERATION: &str = "tokenAuthorizer";

/// The error message API Gateway turns into a 401.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// What routes behind the authorizer learn of the caller: the request context's `authorizer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    pub uid: String,
    pub session_id: String,
    pub user_domain: String,
    pub app_id: String,
    pub twitter_user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(Principal),
    Deny(Principal),
    Unauthorized,
}

pub struct Authorizer<S> {
    store: S,
    lifetimes: Lifetimes,
    clock: Arc<dyn Clock>,
}

impl<S: TokenReader + Sync> Authorizer<S> {
    pub fn new(store: S, lifetimes: Lifetimes, clock: Arc<dyn Clock>) -> Self {
        Authorizer {
            store,
            lifetimes,
            clock,
        }
    }

    /// Decides on the `Authorization` header's value. An error is a failure to decide.
    pub async fn decide(&self, authorization: Option<&str>) -> Result<Decision, ApiError> {
        let Some(presented) = authorization
            .map(authorization_token)
            .and_then(PresentedToken::parse)
        else {
            return Ok(Decision::Unauthorized);
        };
        let state = self
            .store
            .token_state(&presented.route, &presented.hash, true)
            .await?;
        let now = self.clock.now()?;
        let Ok(live) = session::check(
            TokenKind::Access,
            &presented,
            state.token.as_ref(),
            state.session.as_ref(),
            now,
            &self.lifetimes,
        ) else {
            return Ok(Decision::Unauthorized);
        };
        let owner = &live.token.owner;
        let principal = Principal {
            uid: owner.uid.clone(),
            session_id: owner.session_id.clone(),
            user_domain: owner.user_domain.clone(),
            app_id: owner.app_id.clone(),
            twitter_user_id: owner.twitter_user_id.clone(),
        };
        match domain_usable(state.domain.as_ref()) {
            Ok(()) => Ok(Decision::Allow(principal)),
            Err(ApiError::UnknownUserDomain | ApiError::UserDomainDisabled) => {
                Ok(Decision::Deny(principal))
            }
            Err(error) => Err(error),
        }
    }

    /// One invocation: the authorizer event in, the policy (or an error) out, one log line.
    pub async fn invoke(
        &self,
        event: ApiGatewayCustomAuthorizerRequestTypeRequest,
        request_id: &str,
        deadline: Option<Instant>,
    ) -> Result<ApiGatewayCustomAuthorizerResponse<Option<Principal>>, Diagnostic> {
        let started = Instant::now();
        // Two tokens are no token: which one was meant cannot be told.
        let repeated = event
            .multi_value_headers
            .get_all(AUTHORIZATION)
            .iter()
            .count()
            > 1;
        let mut values = event.headers.get_all(AUTHORIZATION).iter();
        let authorization = match (values.next(), values.next()) {
            (Some(value), None) if !repeated => value.to_str().ok(),
            _ => None,
        };
        let (decided, spent) = scope::run(deadline, self.decide(authorization)).await;
        let (outcome, principal) = match &decided {
            Ok(Decision::Allow(p)) => ("allow", Some(p)),
            Ok(Decision::Deny(p)) => ("deny", Some(p)),
            Ok(Decision::Unauthorized) => ("unauthorized", None),
            Err(_) => ("error", None),
        };
        let error = decided.as_ref().err();
        let latency = started.elapsed();
        tracing::info!(
            request_id,
            outcome,
            code = error.map_or(0, ApiError::code),
            latency_us = latency.as_micros() as u64,
            dynamodb_us = spent.dynamodb.as_micros() as u64,
            user_domain = principal.map_or("", |p| p.user_domain.as_str()),
            uid = principal.map_or("", |p| p.uid.as_str()),
            session_id = principal.map_or("", |p| p.session_id.as_str()),
            detail = error.map_or("", ApiError::detail),
            "{OPERATION}"
        );
        metrics::emit(&metrics::Record {
            operation: OPERATION,
            outcome,
            latency,
            spent,
            reuse_detected: false,
        });
        let stage = event
            .method_arn
            .as_deref()
            .and_then(stage_resource)
            .ok_or_else(|| failure("the event has no usable methodArn"));
        match decided {
            Ok(Decision::Allow(principal)) => Ok(policy(IamPolicyEffect::Allow, stage?, principal)),
            Ok(Decision::Deny(principal)) => Ok(policy(IamPolicyEffect::Deny, stage?, principal)),
            Ok(Decision::Unauthorized) => Err(Diagnostic {
                error_type: UNAUTHORIZED.to_owned(),
                error_message: UNAUTHORIZED.to_owned(),
            }),
            Err(_) => Err(failure("the token could not be checked")),
        }
    }
}

/// Serves the authorizer until the Lambda runtime stops.
pub async fn run<S: TokenReader + Sync>(authorizer: Authorizer<S>) -> Result<(), Error> {
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
            let deadline = scope::deadline_from_lambda(event.context.deadline);
            // Boxed: the nested futures' types are otherwise too deep for the compiler's limit.
            let decision: BoxFuture<'_, _> = Box::pin(async move {
                authorizer
                    .invoke(event.payload, &event.context.request_id, deadline)
                    .await
            });
            decision
        },
    ))
    .await
}

/// An error API Gateway answers as an authorizer failure; our own words only.
fn failure(message: &str) -> Diagnostic {
    Diagnostic {
        error_type: "AuthorizerFailure".to_owned(),
        error_message: message.to_owned(),
    }
}

/// `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/*/*` from the method ARN of the request, so
/// that a cached decision holds on every route of the stage.
pub fn stage_resource(method_arn: &str) -> Option<String> {
    let (prefix, path) = method_arn.rsplit_once(':')?;
    let mut segments = path.split('/');
    let (api, stage) = (segments.next()?, segments.next()?);
    if !prefix.starts_with("arn:") || api.is_empty() || stage.is_empty() {
        return None;
    }
    Some(format!("{prefix}:{api}/{stage}/*/*"))
}

fn policy(
    effect: IamPolicyEffect,
    resource: String,
    principal: Principal,
) -> ApiGatewayCustomAuthorizerResponse<Option<Principal>> {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = vec![resource];
    let mut document = ApiGatewayCustomAuthorizerPolicy::default();
    document.version = Some("2012-10-17".to_owned());
    document.statement = vec![statement];
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(principal.uid.clone());
    response.policy_document = document;
    response.context = Some(principal);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_covers_the_whole_stage() {
        assert_eq!(
            stage_resource(
                "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v2/enduser/enduserapi/userInfo"
            )
            .as_deref(),
            Some("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*")
        );
        assert_eq!(stage_resource("nonsense"), None);
        assert_eq!(stage_resource("arn:aws:execute-api:r:a:/prod/GET/x"), None);
        assert_eq!(stage_resource("arn:aws:execute-api:r:a:api"), None);
    }
}
