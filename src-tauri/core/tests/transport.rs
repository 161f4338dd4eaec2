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
    assert_eq!(calls.len(), 1, "the failed call is still recorded");
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
