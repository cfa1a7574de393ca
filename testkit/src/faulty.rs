//! An HTTP server that misbehaves on purpose, to stand in for a failing DynamoDB or Twitter.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::server::{Reply, Server, loopback_any_port, reply};

#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer every request with this status, content type and body.
    Answer {
        status: u16,
        content_type: String,
        body: String,
    },
    /// Read the request and never answer.
    Hang,
}

impl Fault {
    pub fn answer(status: u16, content_type: &str, body: &str) -> Fault {
        Fault::Answer {
            status,
            content_type: content_type.to_owned(),
            body: body.to_owned(),
        }
    }

    /// DynamoDB's JSON error form, for example `ThrottlingException` with 400.
    pub fn dynamodb_error(status: u16, type_name: &str) -> Fault {
        let body = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{type_name}","message":"stand-in"}}"#
        );
        Fault::answer(status, "application/x-amz-json-1.0", &body)
    }
}

/// A running faulty server; counts the requests it received.
pub struct FaultyServer {
    server: Server,
    requests: Arc<AtomicUsize>,
}

impl FaultyServer {
    pub async fn start(fault: Fault) -> std::io::Result<FaultyServer> {
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let server = Server::start(loopback_any_port(), move |_request| {
            counter.fetch_add(1, Ordering::SeqCst);
            let fault = fault.clone();
            async move { answer(fault).await }
        })
        .await?;
        Ok(FaultyServer { server, requests })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn answer(fault: Fault) -> Reply {
    match fault {
        Fault::Answer {
            status,
            content_type,
            body,
        } => reply(status, &content_type, body),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            reply(504, "text/plain", "")
        }
    }
}
