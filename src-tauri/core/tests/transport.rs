//! The client against misbehaving servers on loopback (raw TCP, no simulator): refused,
//! silent, reset mid-body, HTML pages and garbage. Each gives a classified error that names
//! what happened, never a panic, and never the token.
#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::time::Duration;

use meta_monitor_core::Secret;
use meta_monitor_core::graph::{
    Credentials, ErrorClass, GraphClient, GraphError, Timeouts, TransportKind, health, http_client,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TOKEN: &str = "fake-transport-token-0123";

fn client(base: &str) -> GraphClient {
    let http = http_client(Timeouts {
        connect: Duration::from_millis(500),
        total: Duration::from_millis(800),
    })
    .expect("client");
    let creds = Credentials {
        access_token: Secret::new(TOKEN),
        app_secret: None,
        verify_token: None,
        capi_token: None,
    };
    GraphClient::new(http, base, "v25.0", creds, None).expect("graph client")
}

/// A server that answers every connection with `reply` (or stays silent when `None`).
async fn serve(reply: Option<&'static [u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                match reply {
                    Some(bytes) => {
                        let _ = socket.write_all(bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(5)).await,
                }
            });
        }
    });
    format!("http://{addr}")
}

async fn me_error(base: &str) -> GraphError {
    let c = client(base);
    let err = health::me(&c)
        .await
        .expect_err("this server never gives a valid /me");
    let calls = c.take_calls();
    let timed_out = matches!(
        err,
        GraphError::Transport {
            kind: TransportKind::Timeout,
            ..
        }
    );
    let retried = err.is_retryable() && !timed_out;
    let attempts = if retried {
        1 + meta_monitor_core::graph::RETRIES
    } else {
        1
    };
    assert_eq!(
        calls.len(),
        attempts,
        "each attempt recorded; only fast transient failures retried: {err}"
    );
    assert!(
        !err.to_string().contains(TOKEN),
        "the token never appears in an error: {err}"
    );
    err
}

#[tokio::test]
async fn refused_silent_and_reset_connections_are_transport_errors() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr")
    };
    let err = me_error(&format!("http://{closed}")).await;
    assert!(
        matches!(
            err,
            GraphError::Transport {
                kind: TransportKind::Refused,
                ..
            }
        ),
        "{err:?}"
    );

    let err = me_error(&serve(None).await).await;
    assert!(
        matches!(
            err,
            GraphError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable(), "timeouts are retried");

    let partial: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\":\"1\"";
    let err = me_error(&serve(Some(partial)).await).await;
    assert_eq!(
        err.class(),
        ErrorClass::Transport,
        "a body cut short is a dropped connection: {err}"
    );
}

#[tokio::test]
async fn html_pages_truncated_json_and_odd_bodies_are_undecodable_with_a_position() {
    let html: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 41\r\n\r\n<html><body>502 Bad Gateway</body></html>";
    let err = me_error(&serve(Some(html)).await).await;
    assert_eq!(err.class(), ErrorClass::Undecodable, "{err}");
    assert_eq!(err.http_status(), Some(502));
    assert!(
        err.to_string().contains("line 1 column 1"),
        "says where it broke: {err}"
    );

    let truncated: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 14\r\n\r\n{\"id\":\"1\",\"nam";
    let err = me_error(&serve(Some(truncated)).await).await;
    assert_eq!(err.class(), ErrorClass::Undecodable, "{err}");
    assert!(err.to_string().contains("column"), "{err}");

    let wrong_type: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{\"id\":42}";
    let err = me_error(&serve(Some(wrong_type)).await).await;
    assert!(err.to_string().contains("id"), "names the JSON path: {err}");

    let meta: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nx-business-use-case-usage: {\"1\":[{\"type\":\"ads_management\",\"call_count\":100,\"estimated_time_to_regain_access\":12}]}\r\ncontent-length: 102\r\n\r\n{\"error\":{\"message\":\"(#80004) Too many calls\",\"type\":\"OAuthException\",\"code\":80004,\"fbtrace_id\":\"Ax\"}}";
    let err = me_error(&serve(Some(meta)).await).await;
    assert_eq!(err.class(), ErrorClass::Throttled, "{err}");
    let meta = err.meta().expect("Meta's fields kept");
    assert_eq!(
        (meta.code, meta.fbtrace_id.as_deref(), meta.http_status),
        (80004, Some("Ax"), 400)
    );
    assert_eq!(
        meta.regain_after,
        Some(Duration::from_secs(12 * 60)),
        "regain time from the headers, minutes → seconds"
    );
}

/// A server that gives `replies` in turn, one per connection (the last one repeats).
async fn serve_sequence(replies: Vec<&'static [u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let reply = replies[n.min(replies.len() - 1)];
            n += 1;
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(reply).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_a_token_error_is_not() {
    let busy: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 110\r\n\r\n{\"error\":{\"message\":\"An unexpected error has occurred.\",\"type\":\"OAuthException\",\"code\":2,\"is_transient\":true}}";
    let ok: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 22\r\n\r\n{\"id\":\"1\",\"name\":\"Me\"}";
    let c = client(&serve_sequence(vec![busy, ok]).await);
    let (me, _) = health::me(&c).await.expect("the second attempt succeeds");
    assert_eq!(me.id, "1");
    let calls = c.take_calls();
    assert_eq!(calls.len(), 2, "one failure, one success, both recorded");
    assert_eq!(calls[0].error_class, Some(ErrorClass::Transient));

    let expired: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 108\r\n\r\n{\"error\":{\"message\":\"Error validating access token\",\"type\":\"OAuthException\",\"code\":190,\"error_subcode\":463}}";
    let c = client(&serve_sequence(vec![expired, ok]).await);
    let err = health::me(&c).await.expect_err("a token error is final");
    assert_eq!(err.class(), ErrorClass::TokenInvalid);
    assert_eq!(c.take_calls().len(), 1, "token errors are never retried");
}
