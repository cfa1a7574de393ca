//! Operating twitter-auth-login: creating its tables from `template.yaml`, and managing user
//! domains, their Twitter apps, MCC routes, end users and sessions.

pub mod actions;
pub mod error;
pub mod provision;
pub mod template;

pub use actions::Admin;
pub use error::AdminError;
