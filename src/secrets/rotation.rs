//! Secrets Manager's rotation of the signing keys, in its four steps: `createSecret` stages the
//! rotated keys as `AWSPENDING`, `setSecret` publishes their public parts, `testSecret` checks
//! that every key is sound and published, `finishSecret` makes the new version `AWSCURRENT`.
//! So a key is public before anything signs with it. The rotation function runs a step per
//! invocation; the admin CLI runs all four in a row, against any endpoint.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_secretsmanager::Client as SecretsClient;
use aws_sdk_ssm::Client as ParameterClient;
use aws_sdk_ssm::types::ParameterType;

use super::{CURRENT, PENDING, parameter_value, secret_string};
use crate::domain::access_token::AccessClaims;
use crate::domain::secret::Secret;
use crate::domain::token::random_hex;
use crate::error::ApiError;
use crate::invocation::deadline::Dependency;
use crate::jwt;
use crate::keys::jwk::{JwkSet, PrivateJwk};
use crate::keys::{PublicKeySet, SigningKeySet, rotation};
use crate::sdk::within_deadline;

/// One of Secrets Manager's four rotation steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::CreateSecret,
        Step::SetSecret,
        Step::TestSecret,
        Step::FinishSecret,
    ];

    /// The event's `Step`, as Secrets Manager names it.
    pub fn parse(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Step::CreateSecret => "createSecret",
            Step::SetSecret => "setSecret",
            Step::TestSecret => "testSecret",
            Step::FinishSecret => "finishSecret",
        }
    }
}

/// Why a step failed, in our own words: never a key, never an AWS text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationError {
    pub step: Step,
    pub reason: &'static str,
}

impl fmt::Display for RotationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.step.as_str(), self.reason)
    }
}

impl std::error::Error for RotationError {}

/// The signing secret and the public parameter one rotation moves.
pub struct RotationTarget {
    pub secrets: SecretsClient,
    pub parameters: ParameterClient,
    pub secret_id: String,
    pub parameter: String,
}

/// A secret's versions, by id, with their stages.
type Versions = HashMap<String, Vec<String>>;

impl RotationTarget {
    /// Runs one step for the version `token` (the event's `ClientRequestToken`).
    pub async fn run(&self, step: Step, token: &str) -> Result<(), RotationError> {
        let failed = |reason: &'static str| RotationError { step, reason };
        let at = |error: ApiError| failed(error.detail());
        match step {
            Step::CreateSecret => self.create(token).await.map_err(at),
            Step::SetSecret => self.set(token).await.map_err(at),
            Step::TestSecret => self.test(token).await.map_err(failed),
            Step::FinishSecret => self.finish(token).await.map_err(at),
        }
    }

    /// All four steps for a new version, as Secrets Manager would run them: the version's
    /// token (32 hex digits: Secrets Manager takes 32 to 64 characters).
    pub async fn rotate(&self) -> Result<String, RotationError> {
        let token = random_hex::<16>().map_err(|_| RotationError {
            step: Step::CreateSecret,
            reason: "the operating system's random source failed",
        })?;
        for step in Step::ALL {
            self.run(step, &token).await?;
        }
        Ok(token)
    }

    async fn versions(&self) -> Result<Versions, ApiError> {
        let described = within_deadline(
            Dependency::Keys,
            self.secrets
                .describe_secret()
                .secret_id(&self.secret_id)
                .send(),
        )
        .await?
        .map_err(|error| crate::sdk::classify(&error))?;
        Ok(described.version_ids_to_stages.unwrap_or_default())
    }

    /// Stages the rotated keys as `AWSPENDING` under `token`, unless that is done already.
    async fn create(&self, token: &str) -> Result<(), ApiError> {
        match self.versions().await?.get(token) {
            Some(stages) if stages.iter().any(|s| s == CURRENT) => return Ok(()),
            Some(stages) if !stages.iter().any(|s| s == PENDING) => {
                return Err(ApiError::Internal("the version is not pending rotation"));
            }
            _ => {}
        }
        if secret_string(&self.secrets, &self.secret_id, PENDING, Some(token))
            .await?
            .is_some()
        {
            return Ok(());
        }
        let current = secret_string(&self.secrets, &self.secret_id, CURRENT, None).await?;
        let keys = match &current {
            None => Vec::new(),
            Some(value) => private_keys(value)?,
        };
        let rotated = rotation::rotated(&keys)
            .map_err(|_| ApiError::Internal("new keys could not be made"))?;
        let value = json(&JwkSet {
            keys: rotated.clone(),
        })?;
        if current.is_none() {
            // The secret's first version becomes AWSCURRENT the moment it exists: its keys
            // are published before that, so nothing signs with a key no one can verify.
            self.publish(&rotated).await?;
        }
        within_deadline(
            Dependency::Keys,
            self.secrets
                .put_secret_value()
                .secret_id(&self.secret_id)
                .client_request_token(token)
                .secret_string(value.expose())
                .version_stages(PENDING)
                .send(),
        )
        .await?
        .map_err(|error| crate::sdk::classify(&error))?;
        Ok(())
    }

    async fn pending(&self, token: &str) -> Result<Secret, ApiError> {
        secret_string(&self.secrets, &self.secret_id, PENDING, Some(token))
            .await?
            .ok_or(ApiError::Internal("the pending version has no value"))
    }

    /// Publishes the public parts of the pending keys.
    async fn set(&self, token: &str) -> Result<(), ApiError> {
        let keys = private_keys(&self.pending(token).await?)?;
        self.publish(&keys).await
    }

    async fn publish(&self, keys: &[PrivateJwk]) -> Result<(), ApiError> {
        let value = serde_json::to_string(&rotation::published(keys))
            .map_err(|_| ApiError::Internal("the public keys could not be written"))?;
        within_deadline(
            Dependency::Keys,
            self.parameters
                .put_parameter()
                .name(&self.parameter)
                .value(value)
                .r#type(ParameterType::String)
                .overwrite(true)
                .send(),
        )
        .await?
        .map_err(|error| crate::sdk::classify(&error))?;
        Ok(())
    }

    /// The pending keys make a signing set, every one of them is published, and a token the
    /// pending current key signs verifies against what is published.
    async fn test(&self, token: &str) -> Result<(), &'static str> {
        let pending = self.pending(token).await.map_err(|e| e.detail())?;
        let signing = SigningKeySet::parse(pending.expose()).map_err(|e| e.0)?;
        let keys = private_keys(&pending).map_err(|e| e.detail())?;
        let published = parameter_value(&self.parameters, &self.parameter)
            .await
            .map_err(|e| e.detail())?
            .ok_or("the public keys are not published")?;
        let published = PublicKeySet::parse(&published).map_err(|e| e.0)?;
        if keys.iter().any(|key| published.by_kid(&key.kid).is_none()) {
            return Err("a pending key is not published");
        }
        let current = signing.current();
        let probe = AccessClaims {
            iss: "rotation-test".into(),
            sub: "probe".into(),
            aud: "C.DM.1".into(),
            client_id: "probe".into(),
            sid: "probe".into(),
            iat: 0,
            exp: u64::MAX,
            jti: "probe".into(),
        };
        let signed = jwt::sign(&probe, current).map_err(|e| e.detail())?;
        let verifying = published
            .by_kid(&current.kid)
            .ok_or("the current key is not published")?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<AccessClaims>(signed.expose(), &verifying.key, &validation)
            .map(drop)
            .map_err(|_| "the published current key does not verify its own signature")
    }

    /// Makes the pending version `AWSCURRENT`, unless it is already.
    async fn finish(&self, token: &str) -> Result<(), ApiError> {
        let versions = self.versions().await?;
        let current = versions
            .iter()
            .find(|(_, stages)| stages.iter().any(|s| s == CURRENT))
            .map(|(id, _)| id.clone());
        if current.as_deref() == Some(token) {
            return Ok(());
        }
        within_deadline(
            Dependency::Keys,
            self.secrets
                .update_secret_version_stage()
                .secret_id(&self.secret_id)
                .version_stage(CURRENT)
                .move_to_version_id(token)
                .set_remove_from_version_id(current)
                .send(),
        )
        .await?
        .map_err(|error| crate::sdk::classify(&error))?;
        Ok(())
    }
}

fn private_keys(value: &Secret) -> Result<Vec<PrivateJwk>, ApiError> {
    serde_json::from_str::<JwkSet<PrivateJwk>>(value.expose())
        .map(|set| set.keys)
        .map_err(|_| ApiError::Internal("the signing secret is not a JWK set"))
}

fn json(set: &JwkSet<PrivateJwk>) -> Result<Secret, ApiError> {
    serde_json::to_string(set)
        .map(Secret::new)
        .map_err(|_| ApiError::Internal("the signing keys could not be written"))
}
