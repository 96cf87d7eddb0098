//! What the TLS and HTTP/2 tests share: certificates made in the test
//! (rcgen), a proxy with a TLS listener, and real TLS clients (reqwest with
//! rustls for HTTP/1.1, tokio-rustls for raw connections and HTTP/2).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::common::{Proxy, ProxyBuilder, free_port};

/// A self-signed certificate and its key, as PEM.
pub struct TestCert {
    pub pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

/// A new self-signed certificate for `names` (subjectAltName DNS entries).
pub fn cert(names: &[&str]) -> TestCert {
    let c = rcgen::generate_simple_self_signed(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    TestCert {
        pem: c.cert.pem(),
        key_pem: c.key_pair.serialize_pem(),
        der: c.cert.der().to_vec(),
    }
}

/// Writes `certs` as `certs/N.pem` + `certs/N.key` in `dir` and returns the
/// `[server]` lines that serve them on `127.0.0.1:port`.
pub fn tls_server_keys(dir: &std::path::Path, port: u16, certs: &[&TestCert]) -> String {
    let mut keys = format!("tls_listen = [\"127.0.0.1:{port}\"]\n");
    for (i, c) in certs.iter().enumerate() {
        write_cert(dir, i, c);
        keys.push_str(&format!(
            "[[server.certificates]]\ncert = \"certs/{i}.pem\"\nkey = \"certs/{i}.key\"\n"
        ));
    }
    keys
}

/// (Re)writes certificate `i`'s files.
pub fn write_cert(dir: &std::path::Path, i: usize, c: &TestCert) {
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    std::fs::write(dir.join(format!("certs/{i}.pem")), &c.pem).unwrap();
    std::fs::write(dir.join(format!("certs/{i}.key")), &c.key_pem).unwrap();
}

/// Starts the proxy with a TLS listener serving `certs`; returns it and
/// the TLS port once that accepts.
pub async fn start_tls(builder: ProxyBuilder, certs: &[&TestCert]) -> (Proxy, u16) {
    let port = free_port();
    let keys = tls_server_keys(builder.dir(), port, certs);
    let proxy = builder.server(&keys).start().await;
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "TLS listener never opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (proxy, port)
}

/// A reqwest client (HTTP/1.1 over rustls) that trusts only `roots` and
/// sends `names` to 127.0.0.1:`port`.
pub fn https_client(roots: &[&TestCert], names: &[&str], port: u16) -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .timeout(Duration::from_secs(60));
    for r in roots {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(r.pem.as_bytes()).unwrap());
    }
    for n in names {
        b = b.resolve(n, SocketAddr::from(([127, 0, 0, 1], port)));
    }
    b
}

/// A rustls client config trusting `roots`, offering `alpn`.
pub fn client_config(roots: &[&TestCert], alpn: &[&[u8]]) -> ClientConfig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut store = RootCertStore::empty();
    for r in roots {
        store.add(CertificateDer::from(r.der.clone())).unwrap();
    }
    let mut config = ClientConfig::builder()
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// A verified TLS connection to 127.0.0.1:`port` for `sni`.
pub async fn connect(
    port: u16,
    sni: &str,
    roots: &[&TestCert],
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<TcpStream>> {
    let config = client_config(roots, alpn);
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from(sni.to_string()).unwrap();
    TlsConnector::from(Arc::new(config)).connect(name, tcp).await
}

/// Accepts any certificate and remembers the leaf it was shown.
#[derive(Debug, Default)]
pub struct Capture(pub Mutex<Option<Vec<u8>>>);

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.0.lock().unwrap() = Some(end_entity.to_vec());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The leaf certificate the proxy shows a client that sends `sni` (an IP
/// address sends none).
pub async fn served_cert(port: u16, sni: &str) -> Vec<u8> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let capture = Arc::new(Capture::default());
    let config = ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from(sni.to_string()).unwrap();
    TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    capture.0.lock().unwrap().clone().unwrap()
}
