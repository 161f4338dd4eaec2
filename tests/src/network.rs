//! A company network on loopback, for the tests of HTTPS through a proxy: a private CA (made
//! with the `openssl` command, as an administrator would), an HTTPS front for the simulator
//! with a certificate that CA signed, and an HTTP `CONNECT` proxy that records where each
//! tunnel went.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA of our own and a certificate it signed for `localhost` and `127.0.0.1`.
pub struct PrivateCa {
    _dir: tempfile::TempDir,
    /// The CA certificate, PEM: what an administrator adds to the trust store.
    pub ca_pem: PathBuf,
    leaf_pem: PathBuf,
    leaf_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PrivateCa {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Meta Monitor Test Company CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(d, &ca);
        let mut csr = vec!["req"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(d, &csr);
        std::fs::write(
            d.join("leaf.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext file");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "2",
                "-extfile",
                "leaf.ext",
            ],
        );
        Self {
            ca_pem: d.join("ca.pem"),
            leaf_pem: d.join("leaf.pem"),
            leaf_key: d.join("leaf.key"),
            _dir: dir,
        }
    }
}

impl PrivateCa {
    /// [`Self::ca_pem`] as text, for an environment variable.
    pub fn pem_path(&self) -> String {
        self.ca_pem.display().to_string()
    }
}

impl Default for PrivateCa {
    fn default() -> Self {
        Self::new()
    }
}

/// Copies bytes both ways between an accepted stream and a new connection to `upstream`.
async fn pipe<S>(mut client: S, upstream: SocketAddr)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// `https://localhost:PORT` in front of `upstream` (plain HTTP), with the CA's certificate.
pub struct TlsFront {
    pub url: String,
}

impl TlsFront {
    pub fn start(runtime: &tokio::runtime::Runtime, ca: &PrivateCa, upstream: SocketAddr) -> Self {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&ca.leaf_pem)
            .expect("leaf certificate")
            .collect::<Result<_, _>>()
            .expect("leaf certificate parses");
        let key = PrivateKeyDer::from_pem_file(&ca.leaf_key).expect("leaf key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        pipe(tls, upstream).await;
                    }
                });
            }
        });
        Self {
            url: format!("https://localhost:{port}"),
        }
    }
}

/// An HTTP proxy that only tunnels (`CONNECT host:port`), as company proxies do for HTTPS;
/// [`Self::tunnels`] lists where each tunnel went.
pub struct ConnectProxy {
    pub url: String,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start(runtime: &tokio::runtime::Runtime) -> Self {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = tunnels.clone();
        runtime.spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                        if stream.read_exact(&mut byte).await.is_err() {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let target = head
                        .strip_prefix("CONNECT ")
                        .and_then(|rest| rest.split_whitespace().next())
                        .map(str::to_owned);
                    let Some(target) = target else {
                        let _ = stream
                            .write_all(
                                b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n",
                            )
                            .await;
                        return;
                    };
                    if let Ok(mut list) = seen.lock() {
                        list.push(target.clone());
                    }
                    let upstream = tokio::net::lookup_host(target.as_str())
                        .await
                        .ok()
                        .and_then(|mut addrs| addrs.find(SocketAddr::is_ipv4));
                    let Some(upstream) = upstream else {
                        let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    if stream
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_ok()
                    {
                        pipe(stream, upstream).await;
                    }
                });
            }
        });
        Self { url, tunnels }
    }

    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().map(|t| t.clone()).unwrap_or_default()
    }
}
