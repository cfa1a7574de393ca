//! `GET /v2/enduser/enduserapi/userInfo`, behind the authorizer: the end user the authorizer
//! named, never one from a parameter. One DynamoDB request.

use lambda_http::{Request, RequestExt};
use serde::Serialize;

use crate::error::ApiError;
use crate::http::{Answer, Endpoint, Subject};
use crate::ports::{User, UserReader};

/// The authorizer context key that names the end user.
pub const UID: &str = "uid";

/// What userInfo answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfoData {
    pub uid: String,
    pub user_domain: String,
    pub twitter_user_id: String,
    pub twitter_username: Option<String>,
    pub register_time: u64,
    pub last_login_time: u64,
    pub status: i64,
}

impl From<User> for UserInfoData {
    fn from(user: User) -> Self {
        UserInfoData {
            uid: user.uid,
            user_domain: user.user_domain,
            twitter_user_id: user.twitter_user_id,
            twitter_username: user.twitter_username,
            register_time: user.register_time,
            last_login_time: user.last_login_time,
            status: user.status,
        }
    }
}

pub struct UserInfo<S> {
    store: S,
}

impl<S: UserReader + Sync> UserInfo<S> {
    pub fn new(store: S) -> Self {
        UserInfo { store }
    }

    pub async fn user_info(&self, uid: &str) -> Result<UserInfoData, ApiError> {
        let user = self.store.user(uid).await?.ok_or(ApiError::UserNotFound)?;
        Ok(user.into())
    }
}

/// The `uid` the authorizer put in the request context.
pub fn authorized_uid(request: &Request) -> Option<&str> {
    request
        .request_context_ref()?
        .authorizer()?
        .fields
        .get(UID)?
        .as_str()
        .filter(|uid| !uid.is_empty())
}

impl<S: UserReader + Sync> Endpoint for UserInfo<S> {
    const OPERATION: &'static str = "userInfo";
    type Data = UserInfoData;

    async fn answer(&self, request: &Request) -> Answer<UserInfoData> {
        // Without the authorizer's context the route was deployed without its authorizer: a
        // server fault, not the caller's.
        let Some(uid) = authorized_uid(request) else {
            return Answer::refused(
                ApiError::Internal("no authorizer context on the request"),
                Subject::default(),
            );
        };
        let subject = Subject {
            uid: Some(uid.to_owned()),
            ..Subject::default()
        };
        Answer {
            outcome: self.user_info(uid).await,
            subject,
        }
    }
}
