//! The API Gateway `REQUEST` authorizer: lets any route of the stage trust the access token in
//! `Authorization` (raw or `Bearer`), with one DynamoDB request per check. Routes behind it
//! receive the end user in the request context and never see a token.
//!
//! Its answers, as API Gateway reads them:
//! - a live token of an enabled user domain: an Allow for every method of the stage;
//! - a token of a user domain that is gone or disabled: a Deny;
//! - no token, or one that is unknown, expired or revoked: the error `Unauthorized` (401);
//! - DynamoDB failing: another error, never a Deny, since a Deny would be cached.

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use lambda_http::aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use lambda_http::http::header::AUTHORIZATION;
use lambda_http::lambda_runtime::Diagnostic;
use serde::{Deserialize, Serialize};

use crate::domain::user_domain::DomainState;
use crate::endpoints::token_check::TokenCheck;
use crate::error::ApiError;
use crate::http::params::authorization_token;
use crate::invocation::{Answered, Caller, Handler, Invocation, Report, RouteTrust};
use crate::jwt::{AccessTokenVerifier, MAX_AUTHORIZATION_BYTES};
use crate::keys::PublicKeySet;
use crate::ports::{DomainRead, KeyRing, TokenReader};

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

pub struct Authorizer<S, K> {
    store: S,
    verifier: AccessTokenVerifier<K>,
    check: TokenCheck,
}

/// The authorizer's answer to API Gateway.
pub type AuthorizerResponse = ApiGatewayCustomAuthorizerResponse<Option<Principal>>;

impl<S: TokenReader + Sync, K: KeyRing<PublicKeySet>> Authorizer<S, K> {
    /// `verifier` verifies access tokens' signatures and claims; `check` then judges them
    /// against their sessions.
    pub fn new(store: S, verifier: AccessTokenVerifier<K>, check: TokenCheck) -> Self {
        Authorizer {
            store,
            verifier,
            check,
        }
    }

    /// Decides on the `Authorization` header's value. An error is a failure to decide. A token
    /// that is no JWT of ours is refused with no DynamoDB request.
    pub async fn decide(&self, authorization: Option<&str>) -> Result<Decision, ApiError> {
        let Some(token) = authorization
            .filter(|value| value.len() <= MAX_AUTHORIZATION_BYTES)
            .map(authorization_token)
        else {
            return Ok(Decision::Unauthorized);
        };
        let Ok(presented) = self.verifier.verify(token, self.check.now()?).await? else {
            return Ok(Decision::Unauthorized);
        };
        let checked = self
            .check
            .read(&self.store, &presented, DomainRead::Include)
            .await?;
        let Ok(live) = checked.live() else {
            return Ok(Decision::Unauthorized);
        };
        let owner = &live.token.owner;
        let principal = Principal {
            uid: owner.uid.clone(),
            session_id: owner.session_id.clone(),
            user_domain: owner.user_domain.to_string(),
            app_id: owner.app_id.clone(),
            twitter_user_id: owner.twitter_user_id.clone(),
        };
        match DomainState::usable(checked.state.domain.as_ref()) {
            Ok(()) => Ok(Decision::Allow(principal)),
            Err(ApiError::UnknownUserDomain | ApiError::UserDomainDisabled) => {
                Ok(Decision::Deny(principal))
            }
            Err(error) => Err(error),
        }
    }
}

impl<S: TokenReader + Sync, K: KeyRing<PublicKeySet>> Handler for Authorizer<S, K> {
    type Event = ApiGatewayCustomAuthorizerRequestTypeRequest;
    type Response = AuthorizerResponse;

    /// One invocation: the authorizer event in, the policy (or an error) out.
    async fn handle(
        &self,
        event: ApiGatewayCustomAuthorizerRequestTypeRequest,
        invocation: &Invocation,
    ) -> Result<AuthorizerResponse, Diagnostic> {
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
        let (decided, time) = invocation.run(Box::pin(self.decide(authorization))).await;
        let (decision, principal) = match &decided {
            Ok(Decision::Allow(p)) => ("allow", Some(p)),
            Ok(Decision::Deny(p)) => ("deny", Some(p)),
            Ok(Decision::Unauthorized) => ("unauthorized", None),
            Err(_) => ("error", None),
        };
        let caller = principal.map_or_else(Caller::default, |p| Caller {
            user_domain: Some(p.user_domain.clone()),
            app_id: Some(p.app_id.clone()),
            uid: Some(p.uid.clone()),
            session_id: Some(p.session_id.clone()),
            route: RouteTrust::Verified,
        });
        let error = decided.as_ref().err();
        invocation.report(&Report {
            operation: OPERATION,
            answered: Answered::Policy {
                decision,
                code: error.map_or(0, ApiError::code),
            },
            caller: &caller,
            error,
            time,
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

fn policy(effect: IamPolicyEffect, resource: String, principal: Principal) -> AuthorizerResponse {
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
