//! `GET /v2/enduser/enduserapi/userInfo`, behind the authorizer: the end user the authorizer
//! named, never one from a parameter. One DynamoDB request.

use lambda_http::Request;

use crate::domain::user::User;
use crate::error::ApiError;
use crate::http::authorized::authorized_uid;
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::ports::UserReader;

pub struct UserInfo<S> {
    store: S,
}

impl<S: UserReader + Sync> UserInfo<S> {
    pub fn new(store: S) -> Self {
        UserInfo { store }
    }

    pub async fn user_info(&self, uid: &str) -> Result<User, ApiError> {
        self.store.user(uid).await?.ok_or(ApiError::UserNotFound)
    }
}

impl<S: UserReader + Sync> Endpoint for UserInfo<S> {
    const OPERATION: &'static str = "userInfo";
    type Data = User;

    async fn answer(&self, request: &Request) -> Outcome<User> {
        // Without the authorizer's context the route was deployed without its authorizer: a
        // server fault, not the caller's.
        let Some(uid) = authorized_uid(request) else {
            return Outcome::refused(
                ApiError::Internal("no authorizer context on the request"),
                Caller::default(),
            );
        };
        let caller = Caller {
            uid: Some(uid.to_owned()),
            ..Caller::default()
        };
        Outcome {
            result: self.user_info(uid).await,
            caller,
        }
    }
}
