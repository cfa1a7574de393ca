//! What most tests use: the world and its data, the events, invoking the functions, and reading
//! what they stored.

pub use crate::events::{
    Params, end_session_event, list_sessions_event, login_signature, logout_event, refresh_event,
    signed_params, user_info_event, with,
};
pub use crate::invoke::{
    Tokens, authorize, call, call_before, call_whole, context, fresh_request_id, now,
};
pub use crate::moto::{PATIENT, dynamodb_client, moto_endpoint};
pub use crate::stored::{Item, number_attr, string_attr};
pub use crate::world::*;
