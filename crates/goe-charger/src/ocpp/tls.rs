//! `wss://` for the backend connection: the server is verified against the
//! certificate of `ocppsc` and/or the global CA store (`ocppg`), unless
//! `ocppss` (skip verification) or `ocppcn` (skip the name check) say
//! otherwise; `ocppcc`/`ocppck` are the client certificate and key of
//! security profile 3. rustls with the `ring` provider.

use super::link::ConnectError;
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

/// The TLS keys of the charger (`ocppsc`, `ocppcc`, `ocppck`, `ocppg`,
/// `ocppss`, `ocppcn`). Its `Debug` never shows a certificate or key.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// `ocppsc`: PEM certificate(s) the server's chain must end in.
    pub server_cert: String,
    /// `ocppcc`: PEM client certificate chain (profile 3).
    pub client_cert: String,
    /// `ocppck`: PEM private key of the client certificate.
    pub client_key: String,
    /// `ocppg`: trust the global CA store too.
    pub global_ca: bool,
    /// `ocppss`: accept any server certificate.
    pub skip_verification: bool,
    /// `ocppcn`: accept a valid chain issued for another name.
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

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration for `settings`.
pub fn client_config(settings: &TlsSettings) -> Result<ClientConfig, ConnectError> {
    let tls = |e: &dyn std::fmt::Display| ConnectError::Tls(e.to_string());
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(settings.server_cert.as_bytes()) {
        let cert = cert.map_err(|_| ConnectError::Tls("ocppsc is not a PEM certificate".into()))?;
        roots
            .add(cert)
            .map_err(|_| ConnectError::Tls("ocppsc is not a usable certificate".into()))?;
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
            .map_err(|e| tls(&e))?;
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
                .map_err(|_| ConnectError::Tls("ocppcc is not a PEM certificate".into()))?;
        let key = PrivateKeyDer::from_pem_slice(settings.client_key.as_bytes())
            .map_err(|_| ConnectError::Tls("ocppck is not a PEM private key".into()))?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|_| ConnectError::Tls("ocppck does not match ocppcc".into()))?
    };
    Ok(config)
}

/// Runs the TLS handshake over `tcp` for `host`.
pub async fn wrap(
    tcp: TcpStream,
    host: &str,
    settings: &TlsSettings,
) -> Result<TlsStream<TcpStream>, ConnectError> {
    let config = client_config(settings)?;
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| ConnectError::Tls(format!("{host} is not a valid server name")))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| ConnectError::Tls(e.to_string()))
}

/// `ocppss`: any certificate (signatures are still checked, so the
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

/// `ocppcn`: a chain verified as usual, whatever name it was issued for.
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
