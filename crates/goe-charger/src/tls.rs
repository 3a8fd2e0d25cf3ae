//! The charger's TLS client side, shared by the OCPP client (`wss://`) and
//! the MQTT client (`mqtts://`): both follow the same six settings (the
//! OCPP keys `ocppsc ocppcc ocppck ocppg ocppss ocppcn`, the MQTT keys
//! `msc mqcc mck mqg mqss mqcn`). The server is verified against the
//! certificates of the server-cert key and/or the global CA store
//! (useGlobalCaStore; always when no server certificate is set), unless
//! skipServerVerification or skipCertCommonNameCheck say otherwise; the
//! client certificate and key are sent when the server asks (mutual TLS).
//! rustls with the `ring` provider; no message ever shows a certificate or key.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The names of the three PEM keys of one protocol, for the error texts
/// (`ocppsc`/`ocppcc`/`ocppck` or `msc`/`mqcc`/`mck`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsKeys {
    /// The server certificate(s) to trust.
    pub server_cert: &'static str,
    /// The client certificate chain.
    pub client_cert: &'static str,
    /// The private key of the client certificate.
    pub client_key: &'static str,
}

/// The TLS settings of one client (OCPP: `ocppsc`, `ocppcc`, `ocppck`,
/// `ocppg`, `ocppss`, `ocppcn`; MQTT: `msc`, `mqcc`, `mck`, `mqg`, `mqss`,
/// `mqcn`). Its `Debug` never shows a certificate or key.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// `ocppsc`/`msc`: PEM certificate(s) the server's chain must end in.
    pub server_cert: String,
    /// `ocppcc`/`mqcc`: PEM client certificate chain (mutual TLS).
    pub client_cert: String,
    /// `ocppck`/`mck`: PEM private key of the client certificate.
    pub client_key: String,
    /// `ocppg`/`mqg`: trust the global CA store too.
    pub global_ca: bool,
    /// `ocppss`/`mqss`: accept any server certificate.
    pub skip_verification: bool,
    /// `ocppcn`/`mqcn`: accept a valid chain issued for another name.
    pub skip_name_check: bool,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("server_cert", &!self.server_cert.is_empty())
            .field("client_cert", &!self.client_cert.is_empty())
            .field("client_key", &!self.client_key.is_empty())
            .field("global_ca", &self.global_ca)
            .field("skip_verification", &self.skip_verification)
            .field("skip_name_check", &self.skip_name_check)
            .finish()
    }
}

/// Why TLS could not be set up or the handshake failed. The texts go to
/// `ocpple`/`mlr`: they name keys and rustls' reason, never a certificate,
/// key or password.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The server-cert or client-cert key holds no PEM certificate.
    #[error("{key} is not a PEM certificate")]
    NotPemCertificate {
        /// The key.
        key: &'static str,
    },
    /// A certificate of the server-cert key cannot be a trust anchor.
    #[error("{key} is not a usable certificate")]
    UnusableCertificate {
        /// The key.
        key: &'static str,
    },
    /// The client-key key holds no PEM private key.
    #[error("{key} is not a PEM private key")]
    NotPemKey {
        /// The key.
        key: &'static str,
    },
    /// The client key does not belong to the client certificate.
    #[error("{key} does not match {cert}")]
    KeyMismatch {
        /// The client-key key.
        key: &'static str,
        /// The client-cert key.
        cert: &'static str,
    },
    /// The host of the URL cannot be a TLS server name.
    #[error("{0} is not a valid server name")]
    ServerName(String),
    /// rustls refused the configuration.
    #[error("{0}")]
    Config(String),
    /// The handshake failed (unknown issuer, name mismatch, alert from the
    /// server, connection closed, …): rustls' or the OS's words, with a
    /// plainer sentence for the usual mistakes.
    #[error("{}", handshake_text(.0))]
    Handshake(std::io::Error),
}

/// The text of a failed handshake: the usual causes in words (the name of
/// rustls' reason kept in parentheses), anything else as rustls says it.
fn handshake_text(e: &std::io::Error) -> String {
    use rustls::AlertDescription as Alert;
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return e.to_string();
    };
    let words = match tls {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not issued by a trusted CA"
        }
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the server's certificate has expired",
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
        ) => "the server's certificate is not valid yet",
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "the server's certificate is issued for another name",
        rustls::Error::AlertReceived(Alert::CertificateRequired) => {
            "the server wants a client certificate"
        }
        rustls::Error::AlertReceived(
            Alert::BadCertificate | Alert::UnknownCA | Alert::CertificateUnknown,
        ) => "the server refused the client certificate",
        _ => return tls.to_string(),
    };
    format!("{words} ({tls})")
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration for `settings` (`keys` name the PEM
/// keys in the errors).
pub fn client_config(settings: &TlsSettings, keys: &TlsKeys) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(settings.server_cert.as_bytes()) {
        let cert = cert.map_err(|_| TlsError::NotPemCertificate {
            key: keys.server_cert,
        })?;
        roots.add(cert).map_err(|_| TlsError::UnusableCertificate {
            key: keys.server_cert,
        })?;
    }
    // without a certificate of its own the charger can only trust the global store
    if settings.global_ca || roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = if settings.skip_verification {
        Arc::new(AcceptAnyServer { algorithms })
    } else {
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        if settings.skip_name_check {
            Arc::new(AnyName { inner: webpki })
        } else {
            webpki
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = if settings.client_cert.trim().is_empty() {
        builder.with_no_client_auth()
    } else {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(settings.client_cert.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|_| TlsError::NotPemCertificate {
                    key: keys.client_cert,
                })?;
        let key = PrivateKeyDer::from_pem_slice(settings.client_key.as_bytes()).map_err(|_| {
            TlsError::NotPemKey {
                key: keys.client_key,
            }
        })?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|_| TlsError::KeyMismatch {
                key: keys.client_key,
                cert: keys.client_cert,
            })?
    };
    Ok(config)
}

/// A client configuration made once and used for every (re)connection of
/// one setting (rustls resumes sessions through it). `Debug` shows nothing
/// of the configuration.
#[derive(Clone)]
pub struct Connector {
    inner: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

impl Connector {
    /// The connector for `settings` (`keys` name the PEM keys in the errors).
    pub fn new(settings: &TlsSettings, keys: &TlsKeys) -> Result<Connector, TlsError> {
        let config = client_config(settings, keys)?;
        Ok(Connector {
            inner: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// Runs the TLS handshake over `tcp` for `host` (a host name or an IP
    /// address, an IPv6 one with or without brackets).
    pub async fn connect(
        &self,
        tcp: TcpStream,
        host: &str,
    ) -> Result<TlsStream<TcpStream>, TlsError> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(bare.to_owned())
            .map_err(|_| TlsError::ServerName(host.to_owned()))?;
        self.inner
            .connect(name, tcp)
            .await
            .map_err(TlsError::Handshake)
    }
}

/// Runs the TLS handshake over `tcp` for `host` with a configuration made
/// for this one connection.
pub async fn wrap(
    tcp: TcpStream,
    host: &str,
    settings: &TlsSettings,
    keys: &TlsKeys,
) -> Result<TlsStream<TcpStream>, TlsError> {
    Connector::new(settings, keys)?.connect(tcp, host).await
}

/// skipServerVerification: any certificate (signatures are still checked, so the
/// handshake is a real one).
#[derive(Debug)]
struct AcceptAnyServer {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// skipCertCommonNameCheck: a chain verified as usual, whatever name it was issued for.
#[derive(Debug)]
struct AnyName {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: TlsKeys = TlsKeys {
        server_cert: "msc",
        client_cert: "mqcc",
        client_key: "mck",
    };

    fn error(settings: &TlsSettings) -> String {
        client_config(settings, &KEYS)
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn bad_pem_is_named_by_its_key_and_never_shown() {
        let bad_cert =
            "-----BEGIN CERTIFICATE-----\nnot base64 Secret42!\n-----END CERTIFICATE-----\n";
        let bad_key = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
        let settings = TlsSettings {
            server_cert: bad_cert.into(),
            ..TlsSettings::default()
        };
        assert_eq!(error(&settings), "msc is not a PEM certificate");
        let settings = TlsSettings {
            client_cert: bad_cert.into(),
            ..TlsSettings::default()
        };
        assert_eq!(error(&settings), "mqcc is not a PEM certificate");
        // a client certificate without its key
        let cert = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap();
        let settings = TlsSettings {
            client_cert: cert.cert.pem(),
            ..TlsSettings::default()
        };
        assert_eq!(error(&settings), "mck is not a PEM private key");
        let settings = TlsSettings {
            client_cert: cert.cert.pem(),
            client_key: bad_key.into(),
            ..TlsSettings::default()
        };
        let e = error(&settings);
        assert!(e.starts_with("mck "), "{e}");
        assert!(!e.contains("MAA="), "{e}");
        // the right pair is taken
        let settings = TlsSettings {
            client_cert: cert.cert.pem(),
            client_key: cert.signing_key.serialize_pem(),
            ..TlsSettings::default()
        };
        assert!(client_config(&settings, &KEYS).is_ok());
    }

    #[test]
    fn debug_shows_set_or_not_only() {
        let settings = TlsSettings {
            server_cert: "-----BEGIN CERTIFICATE-----\nSecret42\n".into(),
            client_key: "Key99".into(),
            ..TlsSettings::default()
        };
        let text = format!("{settings:?}");
        assert!(
            !text.contains("Secret42") && !text.contains("Key99"),
            "{text}"
        );
        assert!(text.contains("server_cert: true"), "{text}");
    }
}
