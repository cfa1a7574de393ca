//! Operating twitter-auth-login: creating its tables from `template.yaml`, and managing user
//! domains, their Twitter apps, MCC routes, end users and sessions.

pub mod admin;
pub mod provision;
