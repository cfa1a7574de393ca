//! The signing secret's Secrets Manager rotation function: configuration and clients are built
//! once, then every step Secrets Manager asks for runs.

use lambda_http::Error;
use twitter_auth_login::config::RotationConfig;
use twitter_auth_login::endpoints::key_rotation::KeyRotation;
use twitter_auth_login::invocation;
use twitter_auth_login::secrets::rotation::RotationTarget;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: RotationConfig = startup::configure()?;
    let aws = startup::aws().await;
    let target = RotationTarget {
        secrets: startup::secrets_client(&aws, &config.keys),
        parameters: startup::parameters_client(&aws, &config.public_keys),
        secret_id: config.keys.secret_id,
        parameter: config.public_keys.name,
    };
    invocation::serve(KeyRotation::new(target)).await
}
