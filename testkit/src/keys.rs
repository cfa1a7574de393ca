//! The key store of a deployment on loopback, on moto's Secrets Manager and SSM: the signing
//! secret (created empty, as CloudFormation creates it, and given its keys by a rotation, as
//! the stack's schedule does at creation), the public keys' parameter, and the derivation
//! secret (generated, as `GenerateSecretString` does).

use std::sync::Arc;

use aws_sdk_secretsmanager::Client as SecretsClient;
use aws_sdk_ssm::Client as ParameterClient;
use aws_sdk_ssm::types::ParameterType;
use tokio::sync::OnceCell;
use twitter_auth_login::domain::clock::Clock;
use twitter_auth_login::domain::token::random_hex;
use twitter_auth_login::dynamo::Limits;
use twitter_auth_login::keys::cache::KeyCache;
use twitter_auth_login::keys::jwk::{JwkSet, KeyStatus, PrivateJwk};
use twitter_auth_login::secrets::rotation::RotationTarget;
use twitter_auth_login::secrets::{DerivationSecret, PublicKeysParameter, SigningSecret};
use twitter_auth_login::startup::{PublicKeys, SigningKeys};

use crate::moto::{PATIENT, aws_config};

/// How often the functions of a world read their keys again (the default).
pub const KEYS_REFRESH_SECONDS: u64 = 300;

/// Where a world's keys are; clients are made per use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStore {
    pub endpoint: String,
    pub signing_secret: String,
    pub public_parameter: String,
    pub derivation_secret: String,
}

pub fn secrets_client(endpoint: &str, limits: Limits) -> SecretsClient {
    let config = aws_config(endpoint);
    SecretsClient::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&config)
            .timeout_config(limits.timeout_config())
            .retry_config(limits.retry_config())
            .build(),
    )
}

pub fn parameters_client(endpoint: &str, limits: Limits) -> ParameterClient {
    let config = aws_config(endpoint);
    ParameterClient::from_conf(
        aws_sdk_ssm::config::Builder::from(&config)
            .timeout_config(limits.timeout_config())
            .retry_config(limits.retry_config())
            .build(),
    )
}

static SHARED: OnceCell<KeyStore> = OnceCell::const_new();

impl KeyStore {
    /// The key store every world of this process shares, made once: most tests only use keys.
    pub async fn shared(endpoint: &str) -> KeyStore {
        SHARED
            .get_or_init(|| KeyStore::rotated(endpoint))
            .await
            .clone()
    }

    /// A key store of its own, with keys from one rotation: for tests that rotate or break it.
    pub async fn rotated(endpoint: &str) -> KeyStore {
        KeyStore::rotated_with(endpoint, &random_hex::<32>().expect("random")).await
    }

    /// The same, with this derivation secret: the demo data's, whose uids events name.
    pub async fn rotated_with(endpoint: &str, derivation_secret: &str) -> KeyStore {
        let store = KeyStore::empty_with(endpoint, derivation_secret).await;
        if let Err(error) = store.rotation().rotate().await {
            panic!("the first rotation of a fresh key store: {error}");
        }
        store
    }

    /// A signing secret with no value and a parameter publishing nothing, as the stack creates
    /// them before their first rotation.
    pub async fn empty(endpoint: &str) -> KeyStore {
        KeyStore::empty_with(endpoint, &random_hex::<32>().expect("random")).await
    }

    async fn empty_with(endpoint: &str, derivation_secret: &str) -> KeyStore {
        let prefix = random_hex::<6>().expect("random");
        let store = KeyStore {
            endpoint: endpoint.to_owned(),
            signing_secret: format!("{prefix}-signing-keys"),
            public_parameter: format!("/{prefix}/public-keys"),
            derivation_secret: format!("{prefix}-derivation-key"),
        };
        let secrets = secrets_client(endpoint, PATIENT);
        secrets
            .create_secret()
            .name(&store.signing_secret)
            .send()
            .await
            .expect("create the signing secret");
        secrets
            .create_secret()
            .name(&store.derivation_secret)
            .secret_string(derivation_secret)
            .send()
            .await
            .expect("create the derivation secret");
        parameters_client(endpoint, PATIENT)
            .put_parameter()
            .name(&store.public_parameter)
            .value(r#"{"keys":[]}"#)
            .r#type(ParameterType::String)
            .send()
            .await
            .expect("create the public keys' parameter");
        store
    }

    /// The rotation of this store's signing keys, as the rotation function and the admin CLI
    /// run it.
    pub fn rotation(&self) -> RotationTarget {
        self.rotation_via(&self.endpoint)
    }

    /// The same, through another endpoint (a faulty proxy in front of moto).
    pub fn rotation_via(&self, endpoint: &str) -> RotationTarget {
        RotationTarget {
            secrets: secrets_client(endpoint, PATIENT),
            parameters: parameters_client(endpoint, PATIENT),
            secret_id: self.signing_secret.clone(),
            parameter: self.public_parameter.clone(),
        }
    }

    /// The signing keys as a function that signs reads them, through `endpoint`.
    pub fn signing_keys(&self, endpoint: &str, clock: Arc<dyn Clock>) -> SigningKeys {
        let source = SigningSecret {
            client: secrets_client(endpoint, Limits::default()),
            secret_id: self.signing_secret.clone(),
        };
        KeyCache::new(source, KEYS_REFRESH_SECONDS, clock)
    }

    /// The derivation secret as a function that signs reads it.
    pub fn derivation(&self, endpoint: &str) -> DerivationSecret {
        DerivationSecret::new(
            secrets_client(endpoint, Limits::default()),
            self.derivation_secret.clone(),
        )
    }

    /// The published keys as a function that verifies reads them, through `endpoint`.
    pub fn public_keys(&self, endpoint: &str, clock: Arc<dyn Clock>) -> PublicKeys {
        let source = PublicKeysParameter {
            client: parameters_client(endpoint, Limits::default()),
            name: self.public_parameter.clone(),
        };
        KeyCache::new(source, KEYS_REFRESH_SECONDS, clock)
    }

    /// The id of the signing secret's `AWSCURRENT` version.
    pub async fn current_version(&self) -> String {
        secrets_client(&self.endpoint, PATIENT)
            .describe_secret()
            .secret_id(&self.signing_secret)
            .send()
            .await
            .expect("describe the signing secret")
            .version_ids_to_stages
            .unwrap_or_default()
            .into_iter()
            .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
            .map(|(id, _)| id)
            .expect("a current version")
    }

    /// The private keys of the signing secret's `AWSCURRENT` version, as the rotation left them.
    pub async fn private_keys(&self) -> Vec<PrivateJwk> {
        let value = secrets_client(&self.endpoint, PATIENT)
            .get_secret_value()
            .secret_id(&self.signing_secret)
            .version_stage("AWSCURRENT")
            .send()
            .await
            .expect("read the signing secret")
            .secret_string
            .expect("the signing secret has keys");
        serde_json::from_str::<JwkSet<PrivateJwk>>(&value)
            .expect("a JWK set")
            .keys
    }

    /// The key with this status.
    pub async fn key(&self, status: KeyStatus) -> PrivateJwk {
        self.private_keys()
            .await
            .into_iter()
            .find(|key| key.status == status)
            .unwrap_or_else(|| panic!("a {status:?} key"))
    }

    /// The variables a deployed function is given for these keys.
    pub fn variables(&self) -> [(&'static str, String); 3] {
        [
            ("SIGNING_KEYS_SECRET", self.signing_secret.clone()),
            ("PUBLIC_KEYS_PARAMETER", self.public_parameter.clone()),
            ("DERIVATION_KEY_SECRET", self.derivation_secret.clone()),
        ]
    }
}
