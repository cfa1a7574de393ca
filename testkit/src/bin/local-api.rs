//! Serves the API of `template.yaml` on loopback, as API Gateway would, in front of the
//! functions that `cargo lambda watch` runs.
//!
//! `local-api PORT FUNCTIONS_URL [TEMPLATE] [Name=Value ...]` — FUNCTIONS_URL is cargo lambda
//! watch's address (`http://127.0.0.1:9000`); `Name=Value` overrides a template parameter.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use testkit::gateway::{Gateway, LambdaInvoke};
use twitter_auth_admin::template::Template;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: local-api PORT FUNCTIONS_URL [TEMPLATE] [Name=Value ...]";
    let (Some(port), Some(functions)) = (args.next(), args.next()) else {
        return Err(usage.into());
    };
    let mut template_path = "template.yaml".to_owned();
    let mut overrides = HashMap::new();
    for arg in args {
        match arg.split_once('=') {
            Some((name, value)) => {
                overrides.insert(name.to_owned(), value.to_owned());
            }
            None => template_path = arg,
        }
    }
    let template = Template::parse(&std::fs::read_to_string(&template_path)?)?;
    let api = template.api(&overrides)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port.parse::<u16>()?));
    let gateway = Gateway::start(addr, api, Arc::new(LambdaInvoke::new(&functions)), true).await?;
    println!("local API listening on {}", gateway.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
