//! Servers that answer badly on purpose, on loopback: a redirect is reported and never
//! followed by any of the three clients (Graph, team webhook, webhook-endpoint check) — the
//! other host receives nothing — and a 2 GiB streamed body fails with the size error while
//! the process stays small.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use meta_monitor_core::Secret;
use meta_monitor_core::alert::{ActionKind, Severity};
use meta_monitor_core::graph::{
    Credentials, ErrorClass, GraphClient, GraphError, MAX_BODY, Timeouts, TransportKind,
    http_client,
};
use meta_monitor_core::notify::webhook::Webhook;
use meta_monitor_core::notify::{Message, Notifier};

/// A loopback server answering every request with `respond()`; counts the requests it got.
fn serve(
    respond: impl Fn(&mut TcpStream) + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            // Read the request head (bodies here are small and ignored).
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            respond(&mut stream);
        }
    });
    (addr, seen)
}

/// An endpoint that redirects every request to `target` (another loopback server).
fn redirector(target: SocketAddr) -> SocketAddr {
    let (addr, _) = serve(move |stream| {
        let head = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{target}/steal?x=1\r\n\
             content-length: 0\r\nconnection: close\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes());
    });
    addr
}

fn credentials() -> Credentials {
    Credentials {
        access_token: Secret::new("fake-hostile-token-31d4"),
        app_secret: None,
        verify_token: Some(Secret::new("fake-verify-token-88")),
        capi_token: None,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn no_client_follows_a_redirect_and_each_names_where_it_pointed() {
    let (other, other_seen) = serve(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
    });
    let rt = runtime();
    let http = http_client(Timeouts::default()).expect("client");

    // The Graph client: the Bearer token would go along.
    let graph = redirector(other);
    let client = GraphClient::new(
        http.clone(),
        &format!("http://{graph}"),
        "v25.0",
        credentials(),
        None,
    )
    .expect("client");
    let err = rt
        .block_on(client.get("me", &[("fields", "id")]))
        .expect_err("a redirect is a failure");
    assert!(
        matches!(
            err,
            GraphError::Transport {
                kind: TransportKind::Redirected,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Transport);
    let text = err.to_string();
    assert!(
        text.contains(&other.to_string()),
        "names the target: {text}"
    );
    assert!(!text.contains("steal"), "never the full location: {text}");
    assert_eq!(client.take_calls().len(), 1, "reported once, not retried");

    // The team webhook: the alert (and the URL's secret path) would go along.
    let hook = redirector(other);
    let webhook = Webhook::new(
        Secret::new(format!("http://{hook}/services/T0/B0/secret-path")),
        Duration::from_secs(5),
        0,
    )
    .expect("webhook");
    let message = Message {
        account: "shop".into(),
        severity: Severity::Critical,
        kind: ActionKind::Fire,
        summary: "shop: test".into(),
        body: "body".into(),
    };
    let err = webhook.send(&message).expect_err("a redirect is a failure");
    assert!(
        err.contains("redirect") && err.contains(&other.to_string()),
        "{err}"
    );
    assert!(!err.contains("secret-path"), "the URL stays secret: {err}");

    // The webhook-endpoint check: the verify token and the signed delivery would go along.
    let endpoint = redirector(other);
    let result = rt.block_on(meta_monitor_core::webhook_endpoint::check(
        &http,
        &format!("http://{endpoint}/meta/hook"),
        &Secret::new("fake-verify-token-88"),
        Some(&Secret::new("fake-app-secret-0000")),
    ));
    assert!(!result.ok, "{result:?}");
    let problem = result.problem.unwrap_or_default();
    assert!(
        problem.contains("redirect") && problem.contains(&other.to_string()),
        "{problem}"
    );

    assert_eq!(
        other_seen.load(Ordering::SeqCst),
        0,
        "the host the redirects named received nothing"
    );
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .expect("VmHWM")
}

#[test]
fn a_two_gib_streamed_body_fails_with_the_size_error_and_memory_stays_small() {
    const TWO_GIB: usize = 2 << 30;
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    // Chunked, so no Content-Length announces the size: the client must stop by itself.
    let (addr, _) = serve(move |stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        let chunk = vec![b' '; 1 << 20];
        let mut sent = 0;
        while sent < TWO_GIB {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if stream.write_all(&framed).is_err() {
                break;
            }
            sent += chunk.len();
            counter.store(sent, Ordering::SeqCst);
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    let rt = runtime();
    let http = http_client(Timeouts {
        connect: Duration::from_secs(5),
        total: Duration::from_secs(60),
    })
    .expect("client");
    let client = GraphClient::new(
        http,
        &format!("http://{addr}"),
        "v25.0",
        credentials(),
        None,
    )
    .expect("client")
    .with_retries(0);
    let err = rt.block_on(client.get("me", &[])).expect_err("too large");
    assert!(
        matches!(
            err,
            GraphError::Transport {
                kind: TransportKind::TooLarge,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("8 MiB"), "{err}");
    std::thread::sleep(Duration::from_millis(300));
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent < TWO_GIB / 4,
        "the client stopped reading early: the server got {} MiB out",
        sent >> 20
    );
    assert!(
        sent >= MAX_BODY,
        "the stream really was larger than the cap"
    );
    let peak = peak_mib();
    assert!(peak < 100.0, "peak memory {peak:.0} MiB");
}
