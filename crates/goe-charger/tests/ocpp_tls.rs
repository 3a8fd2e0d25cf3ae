//! `wss://` for the OCPP client (issue #14 point 3): the server verified
//! against `ocppsc`, `ocppss` (skip verification) and `ocppcn` (skip the name
//! check), and the client certificate of `ocppcc`/`ocppck` (security
//! profile 3). A real TLS backend in the test (rustls server, tungstenite
//! WebSocket) with certificates made by rcgen; the charger is the real
//! `goe-charger` process.

#[path = "common/mod.rs"]
mod common;

use common::{Api, Charger};
use futures_util::StreamExt as _;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// A test CA with a server certificate for 127.0.0.1 (and one for another
/// name) and a client certificate.
struct Pki {
    ca_pem: String,
    server: (String, String),
    wrong_name: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "goe test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>, ip: bool| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        if ip {
            params
                .subject_alt_names
                .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        }
        let cert = params.signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca.pem(),
        server: leaf(vec!["localhost".into()], true),
        wrong_name: leaf(vec!["other.example".into()], false),
        client: leaf(vec!["012345".into()], false),
    }
}

/// What the backend saw of one connection.
#[derive(Debug)]
struct Seen {
    client_certificate: bool,
    first_frame: String,
}

/// A TLS WebSocket backend with `cert`; it accepts (but does not require) a
/// client certificate issued by `ca`. Returns its port and what it sees.
// (tungstenite's handshake callback returns its own large error type)
#[allow(clippy::result_large_err)]
async fn backend(cert: &(String, String), ca_pem: &str) -> (u16, mpsc::UnboundedReceiver<Seen>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .unwrap();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert.0.as_bytes())
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(cert.1.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let client_certificate = tls.get_ref().1.peer_certificates().is_some();
                let ws = tokio_tungstenite::accept_hdr_async(
                    tls,
                    |req: &Request, mut resp: Response| {
                        let asked = req
                            .headers()
                            .get("Sec-WebSocket-Protocol")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        if asked.split(',').any(|p| p.trim() == "ocpp1.6") {
                            resp.headers_mut()
                                .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
                        }
                        Ok(resp)
                    },
                )
                .await;
                let Ok(mut ws) = ws else { return };
                if let Some(Ok(Message::Text(text))) = ws.next().await {
                    let _ = tx.send(Seen {
                        client_certificate,
                        first_frame: text.to_string(),
                    });
                }
            });
        }
    });
    (port, rx)
}

async fn set_text(api: &Api, key: &str, text: &str) {
    let json = serde_json::to_string(text).unwrap();
    api.set_ok(&[(key, json.as_str())]).await;
}

async fn seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Option<Seen> {
    seen_for(rx, 15).await
}

async fn seen_for(rx: &mut mpsc::UnboundedReceiver<Seen>, secs: u64) -> Option<Seen> {
    tokio::time::timeout(Duration::from_secs(secs), rx.recv())
        .await
        .ok()
        .flatten()
}

/// `ocpple` within a few seconds (the connect failed).
async fn last_error(api: &Api) -> String {
    for _ in 0..100 {
        let s = api.status().await;
        if let Some(e) = s.get("ocpple").and_then(|v| v.as_str()) {
            return e.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no ocpple");
}

#[tokio::test]
async fn wss_verifies_the_backend_and_presents_the_client_certificate() {
    let pki = pki();
    let (port, mut rx) = backend(&pki.server, &pki.ca_pem).await;
    let ch = Charger::fresh();
    let api = ch.api();
    set_text(&api, "ocppsc", &pki.ca_pem).await;
    set_text(&api, "ocppcc", &pki.client.0).await;
    set_text(&api, "ocppck", &pki.client.1).await;
    set_text(
        &api,
        "ocppu",
        &format!("wss://127.0.0.1:{port}/ocpp/{{serial}}"),
    )
    .await;
    api.set_ok(&[("ocppe", "true")]).await;
    let seen = seen(&mut rx).await.expect("a TLS connection");
    assert!(seen.client_certificate, "profile 3: the client certificate");
    assert!(
        seen.first_frame.contains("\"BootNotification\""),
        "{}",
        seen.first_frame
    );
    // the certificates and the key are never shown
    let status = api.status().await;
    for key in ["ocppsc", "ocppcc", "ocppck"] {
        assert_eq!(
            status.get(key),
            Some(&serde_json::Value::Bool(true)),
            "{key}"
        );
    }
}

#[tokio::test]
async fn wss_refuses_an_unknown_server_unless_told_to_skip_verification() {
    let pki = pki();
    let (port, mut rx) = backend(&pki.server, &pki.ca_pem).await;
    let ch = Charger::fresh();
    let api = ch.api();
    // no ocppsc: only the global CA store, which does not know the test CA
    set_text(
        &api,
        "ocppu",
        &format!("wss://127.0.0.1:{port}/ocpp/{{serial}}"),
    )
    .await;
    api.set_ok(&[("ocppe", "true")]).await;
    let error = last_error(&api).await;
    assert!(
        error.contains("tls") || error.contains("certificate"),
        "{error}"
    );
    assert!(
        seen_for(&mut rx, 3).await.is_none(),
        "no WebSocket over an unverified server"
    );
    api.set_ok(&[("ocppss", "true")]).await;
    let seen = seen_within(&mut rx).await;
    assert!(!seen.client_certificate, "none configured");
}

#[tokio::test]
async fn wss_name_check_can_be_skipped() {
    let pki = pki();
    let (port, mut rx) = backend(&pki.wrong_name, &pki.ca_pem).await;
    let ch = Charger::fresh();
    let api = ch.api();
    set_text(&api, "ocppsc", &pki.ca_pem).await;
    set_text(
        &api,
        "ocppu",
        &format!("wss://127.0.0.1:{port}/ocpp/{{serial}}"),
    )
    .await;
    api.set_ok(&[("ocppe", "true")]).await;
    let error = last_error(&api).await;
    assert!(error.contains("tls"), "{error}");
    api.set_ok(&[("ocppcn", "true")]).await;
    let seen = seen_within(&mut rx).await;
    assert!(seen.first_frame.contains("BootNotification"));
}

async fn seen_within(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    seen(rx).await.expect("a connection once allowed")
}
