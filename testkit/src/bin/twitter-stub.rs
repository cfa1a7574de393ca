//! Serves the Twitter stand-in on loopback for local runs.
//!
//! `twitter-stub PORT ACCOUNTS.json` — the file holds a JSON array of accounts
//! (`consumerKey`, `consumerSecret`, `token`, `tokenSecret`, `userId`, `username`).

use std::net::SocketAddr;

use testkit::twitter::{Account, TwitterStub};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(accounts_path)) = (args.next(), args.next()) else {
        return Err("usage: twitter-stub PORT ACCOUNTS.json".into());
    };
    let port: u16 = port.parse()?;
    let accounts: Vec<Account> = serde_json::from_str(&std::fs::read_to_string(accounts_path)?)?;
    let stub = TwitterStub::bind(SocketAddr::from(([127, 0, 0, 1], port)), accounts).await?;
    println!("twitter stand-in listening on {}", stub.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
