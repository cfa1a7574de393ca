//! `signing-key-rotation`: Secrets Manager's rotation function for the signing keys. Each
//! invocation is one step of one rotation (`{"Step", "SecretId", "ClientRequestToken"}`), and
//! only of the secret this function was deployed for.

use lambda_http::lambda_runtime::Diagnostic;
use serde::Deserialize;

use crate::error::ApiError;
use crate::invocation::{Answered, Caller, Handler, Invocation, Report};
use crate::secrets::rotation::{RotationTarget, Step};

pub const OPERATION: &str = "signingKeyRotation";

/// Secrets Manager's rotation event.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationEvent {
    pub step: String,
    pub secret_id: String,
    pub client_request_token: String,
    #[serde(default)]
    pub rotation_token: Option<String>,
}

pub struct KeyRotation {
    target: RotationTarget,
}

impl KeyRotation {
    pub fn new(target: RotationTarget) -> Self {
        KeyRotation { target }
    }

    /// Whether the event names this function's secret, by name or by ARN.
    fn is_ours(&self, secret_id: &str) -> bool {
        let ours = &self.target.secret_id;
        secret_id == ours
            || secret_id.contains(&format!(":secret:{ours}-"))
            || ours.contains(&format!(":secret:{secret_id}-"))
    }

    async fn step(&self, event: &RotationEvent) -> Result<Step, ApiError> {
        let step = Step::parse(&event.step).ok_or(ApiError::Internal("unknown rotation step"))?;
        if !self.is_ours(&event.secret_id) {
            return Err(ApiError::Internal("the event names another secret"));
        }
        self.target
            .run(step, &event.client_request_token)
            .await
            .map_err(|error| ApiError::Internal(error.reason))?;
        Ok(step)
    }
}

impl Handler for KeyRotation {
    type Event = RotationEvent;
    type Response = ();

    async fn handle(
        &self,
        event: RotationEvent,
        invocation: &Invocation,
    ) -> Result<(), Diagnostic> {
        let (stepped, time) = invocation.run(self.step(&event)).await;
        let error = stepped.as_ref().err();
        invocation.report(&Report {
            operation: OPERATION,
            answered: Answered::Event {
                outcome: stepped.as_ref().map_or("failed", |step| step.as_str()),
            },
            caller: &Caller::default(),
            error,
            time,
        });
        stepped.map(drop).map_err(|error| Diagnostic {
            error_type: "RotationFailed".to_owned(),
            error_message: format!("{} failed: {}", event.step, error.detail()),
        })
    }
}
