//! TLS to clients: the certificates of `[[server.certificates]]`, chosen
//! by SNI, and the rustls acceptor of the `tls_listen` listeners.
//!
//! Certificates are read and checked while the configuration is validated
//! (`config/validate.rs` calls [`Certificate::load`]), so a bad one fails
//! start-up, `--test` and a reload the same way a bad script does. The
//! acceptor's [`Resolver`] reads the live [`CertStore`] at every handshake;
//! a reload stores a new one (`AppState::apply_server_config`), and
//! connections already open keep the certificate they started with.
//!
//! The handshake itself runs in `downstream.rs`, under the same deadline
//! as the first request header.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use pingora::listeners::tls::Acceptor;
use pingora::tls::sign::CertifiedKey;
use pingora::tls::{ClientHello, CryptoProvider, ResolvesServerCert, ServerConfig, version};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why a certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The certificate file holds no PEM `CERTIFICATE`, or a broken one.
    #[error("{}: no PEM certificate in it ({reason})", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// The PEM parser's reason.
        reason: String,
    },
    /// The key file holds no PEM private key (PKCS#8, PKCS#1 or SEC1).
    #[error("{}: no PEM private key in it ({reason})", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
        /// The PEM parser's reason.
        reason: String,
    },
    /// The first certificate is not a parsable X.509 certificate.
    #[error("{}: not an X.509 certificate: {reason}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        reason: String,
    },
    /// rustls refused the key, or it does not belong to the certificate.
    #[error("{}: the key cannot be used with {}: {reason}", key.display(), cert.display())]
    BadKey {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        reason: String,
    },
    /// rustls could not be set up (no crypto provider, no protocol version).
    #[error("TLS set-up: {reason}")]
    Setup {
        /// Why.
        reason: String,
    },
}

/// One `[[server.certificates]]` entry, loaded: the chain and key rustls
/// serves, and the DNS names (subjectAltName) it is chosen for.
pub struct Certificate {
    /// What rustls serves.
    key: Arc<CertifiedKey>,
    /// Lower-case DNS names; a wildcard keeps its `*.` prefix.
    names: Vec<String>,
}

impl Certificate {
    /// Reads a PEM certificate chain (leaf first) and its private key.
    pub fn load(cert: &Path, key: &Path) -> Result<Certificate, TlsError> {
        let read = |path: &Path| {
            plugin_runtime::read_bounded(path, crate::config::MAX_CONFIG_FILE_BYTES).map_err(|e| TlsError::Read {
                path: path.to_owned(),
                reason: io_reason(&e),
            })
        };
        let cert_pem = read(cert)?;
        let key_pem = read(key)?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::NoCertificate {
                path: cert.to_owned(),
                reason: e.to_string(),
            })?;
        let Some(leaf) = chain.first() else {
            return Err(TlsError::NoCertificate {
                path: cert.to_owned(),
                reason: "no BEGIN CERTIFICATE section".into(),
            });
        };
        let names = dns_names(leaf).map_err(|reason| TlsError::BadCertificate {
            path: cert.to_owned(),
            reason,
        })?;
        let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::NoKey {
            path: key.to_owned(),
            reason: e.to_string(),
        })?;
        let provider = crypto_provider()?;
        let certified = CertifiedKey::from_der(chain, private, &provider).map_err(|e| TlsError::BadKey {
            cert: cert.to_owned(),
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Certificate {
            key: Arc::new(certified),
            names,
        })
    }

    /// The DNS names it is chosen for.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate").field("names", &self.names).finish()
    }
}

impl PartialEq for Certificate {
    /// The same chain (the key follows from it).
    fn eq(&self, other: &Certificate) -> bool {
        self.key.cert == other.key.cert
    }
}

impl Eq for Certificate {}

/// The subjectAltName DNS names of a DER certificate, lower-cased.
fn dns_names(der: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| e.to_string())?;
    let mut names = Vec::new();
    if let Some(san) = cert.subject_alternative_name().map_err(|e| e.to_string())? {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                names.push(dns.trim_end_matches('.').to_ascii_lowercase());
            }
        }
    }
    Ok(names)
}

/// The certificates in force: by exact name, by wildcard suffix, and the
/// default (the first configured) for clients that send no SNI or a name
/// no certificate has.
#[derive(Debug, Default)]
pub struct CertStore {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` is kept as `example.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl CertStore {
    /// The store for `certs`, in configuration order (the first one that
    /// names a host serves it).
    pub fn new(certs: &[Arc<Certificate>]) -> CertStore {
        let mut store = CertStore {
            default: certs.first().map(|c| c.key.clone()),
            ..CertStore::default()
        };
        for cert in certs {
            for name in &cert.names {
                let (map, name) = match name.strip_prefix("*.") {
                    Some(suffix) => (&mut store.wildcard, suffix),
                    None => (&mut store.exact, name.as_str()),
                };
                map.entry(name.to_string()).or_insert_with(|| cert.key.clone());
            }
        }
        store
    }

    /// The certificate for `sni`: an exact name, else a wildcard that
    /// covers its first label (`*.example.com` covers `a.example.com`, not
    /// `example.com` nor `a.b.example.com`, RFC 6125 §6.4.3), else the default.
    pub fn find(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        if let Some(sni) = sni {
            let sni = sni.trim_end_matches('.').to_ascii_lowercase();
            if let Some(key) = self.exact.get(&sni) {
                return Some(key.clone());
            }
            if let Some((_, parent)) = sni.split_once('.')
                && let Some(key) = self.wildcard.get(parent)
            {
                return Some(key.clone());
            }
        }
        self.default.clone()
    }
}

/// rustls's certificate callback over the live [`CertStore`].
#[derive(Debug)]
pub struct Resolver {
    store: Arc<ArcSwap<CertStore>>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.store.load().find(hello.server_name())
    }
}

/// The process's crypto provider (ring, as Pingora's rustls build uses).
fn crypto_provider() -> Result<Arc<CryptoProvider>, TlsError> {
    pingora::tls::install_default_crypto_provider();
    CryptoProvider::get_default().cloned().ok_or_else(|| TlsError::Setup {
        reason: "no rustls crypto provider is installed".into(),
    })
}

/// The acceptor of the `tls_listen` listeners: TLS 1.2 and 1.3, ALPN `h2`
/// then `http/1.1`, the certificate from `store` at each handshake.
pub fn acceptor(store: Arc<ArcSwap<CertStore>>) -> Result<Acceptor, TlsError> {
    let provider = crypto_provider()?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&version::TLS12, &version::TLS13])
        .map_err(|e| TlsError::Setup { reason: e.to_string() })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Resolver { store }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Acceptor::from_server_config(Arc::new(config)))
}

/// `request.cf.tlsVersion` as Cloudflare writes it (`TLSv1.3`), from
/// rustls's name (`TLSv1_3`).
pub fn cf_tls_version(rustls_name: &str) -> String {
    rustls_name.replace('_', ".")
}

/// `request.cf.tlsCipher` as Cloudflare writes it (OpenSSL's names, such
/// as `AEAD-AES128-GCM-SHA256`), from rustls's suite name.
pub fn cf_tls_cipher(rustls_name: &str) -> String {
    let name = match rustls_name {
        "TLS13_AES_128_GCM_SHA256" => "AEAD-AES128-GCM-SHA256",
        "TLS13_AES_256_GCM_SHA384" => "AEAD-AES256-GCM-SHA384",
        "TLS13_CHACHA20_POLY1305_SHA256" => "AEAD-CHACHA20-POLY1305-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" => "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" => "ECDHE-RSA-CHACHA20-POLY1305",
        other => other,
    };
    name.to_string()
}

/// `io::Error`'s message without the trailing ` (os error N)`.
fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(names: &[&[&str]]) -> (CertStore, Vec<Arc<CertifiedKey>>) {
        let provider = crypto_provider().unwrap();
        let mut certs = Vec::new();
        for n in names {
            let key = rcgen::KeyPair::generate().unwrap();
            let params = rcgen::CertificateParams::new(n.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
            let cert = params.self_signed(&key).unwrap();
            let der = CertificateDer::from(cert.der().to_vec());
            let private = PrivateKeyDer::try_from(key.serialize_der()).unwrap();
            let ck = CertifiedKey::from_der(vec![der.clone()], private, &provider).unwrap();
            certs.push(Arc::new(Certificate {
                key: Arc::new(ck),
                names: dns_names(&der).unwrap(),
            }));
        }
        let keys = certs.iter().map(|c| c.key.clone()).collect();
        (CertStore::new(&certs), keys)
    }

    #[test]
    fn sni_picks_exact_then_wildcard_then_default() {
        let (s, k) = store(&[&["a.test"], &["*.b.test", "B.test"], &["x.b.test"]]);
        let pick = |sni| {
            let got = s.find(sni).unwrap();
            k.iter().position(|c| Arc::ptr_eq(c, &got)).unwrap()
        };
        assert_eq!(pick(Some("a.test")), 0);
        assert_eq!(pick(Some("A.Test.")), 0);
        assert_eq!(pick(Some("b.test")), 1);
        assert_eq!(pick(Some("y.b.test")), 1);
        // An exact name beats a wildcard, whatever the order.
        assert_eq!(pick(Some("x.b.test")), 2);
        // A wildcard covers one label only.
        assert_eq!(pick(Some("z.y.b.test")), 0);
        assert_eq!(pick(Some("other.test")), 0);
        assert_eq!(pick(None), 0);
    }

    #[test]
    fn cloudflare_names() {
        assert_eq!(cf_tls_version("TLSv1_3"), "TLSv1.3");
        assert_eq!(cf_tls_cipher("TLS13_AES_256_GCM_SHA384"), "AEAD-AES256-GCM-SHA384");
    }
}
