//! The "empty" function cold starts are compared against: the same runtime (lambda_http) and
//! the same AWS SDK DynamoDB client as twitter-auth-login, built the same way at start-up, and a
//! handler that answers a fixed 200 without touching anything.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk_config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    let client = &client;
    lambda_http::run(service_fn(move |_request: Request| async move {
        // Held, as the real function holds its client, but never called.
        let _ = client;
        let mut response = Response::new(Body::Text(r#"{"code":200}"#.to_owned()));
        *response.status_mut() = StatusCode::OK;
        response
            .headers_mut()
            .insert("content-type", "application/json".parse()?);
        Ok::<_, Error>(response)
    }))
    .await
}
