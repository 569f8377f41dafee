//! Throttling and 5xx answers are retried with backoff; other errors are not, and every error
//! becomes a diagnostic naming the resource, the AWS error code and its message.
//!
//! moto cannot be told to throttle, so these tests point the provider at a tiny HTTP server
//! that answers every request with one fixed AWS error and counts the requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use braid_provider::{Provider, ReadRequest, Value};
use braid_provider_aws::AwsProvider;

/// Serves `status` with an SNS (query protocol) error body of `code`; returns the endpoint and
/// the request counter.
fn failing_endpoint(status: &'static str, code: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            counter.fetch_add(1, Ordering::SeqCst);
            let payload = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>fault injected by the test</Message></Error>\
                 <RequestId>r-1</RequestId></ErrorResponse>"
            );
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{payload}",
                payload.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (endpoint, count)
}

async fn read_topic(endpoint: &str) -> braid_provider::ReadResponse {
    let provider = AwsProvider::new();
    let diagnostics = provider
        .configure(Value::map([
            ("region", Value::from("us-east-1")),
            ("endpoint", Value::from(endpoint)),
            ("access_key", Value::from("testing")),
            ("secret_key", Value::from("testing")),
            ("max_retries", Value::from(2)),
        ]))
        .await;
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let current = Value::map([(
        "id",
        Value::from("arn:aws:sns:us-east-1:123456789012:events"),
    )]);
    provider
        .read(ReadRequest {
            type_name: "aws_sns_topic".to_string(),
            address: "aws_sns_topic.events".to_string(),
            current,
        })
        .await
}

fn assert_named_error(response: &braid_provider::ReadResponse, code: &str) {
    assert_eq!(response.diagnostics.len(), 1, "{:?}", response.diagnostics);
    let detail = &response.diagnostics[0].detail;
    assert!(detail.contains("aws_sns_topic.events"), "{detail}");
    assert!(detail.contains(code), "{detail}");
    assert!(detail.contains("fault injected by the test"), "{detail}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let (endpoint, count) = failing_endpoint("503 Service Unavailable", "ServiceUnavailable");
    let response = read_topic(&endpoint).await;
    assert_named_error(&response, "ServiceUnavailable");
    assert_eq!(count.load(Ordering::SeqCst), 3, "one try and two retries");
}

#[tokio::test]
async fn throttling_is_retried() {
    let (endpoint, count) = failing_endpoint("400 Bad Request", "Throttling");
    let response = read_topic(&endpoint).await;
    assert_named_error(&response, "Throttling");
    assert_eq!(count.load(Ordering::SeqCst), 3, "one try and two retries");
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    let (endpoint, count) = failing_endpoint("400 Bad Request", "InvalidParameter");
    let response = read_topic(&endpoint).await;
    assert_named_error(&response, "InvalidParameter");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}
