//! The HTTP baseline of `scripts/bench-http.sh`: a bare axum handler that
//! answers every request with a constant, on the same runtime and server setup
//! as `goe-charger` (multi-threaded tokio runtime with default workers,
//! `axum::serve`, one fallback handler). Its requests/s is the limit the real
//! charger's `/api/status` is compared with.
//!
//! `cargo run --release -p goe-charger --example bare_axum -- 127.0.0.1:0`
//! prints `bare-axum listening on http://ADDR`, then serves until killed.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::io::Write as _;
use std::net::SocketAddr;

/// A constant the size of a small filtered status.
const BODY: &str = r#"{"alw":false,"car":1,"eto":0,"wh":0,"trx":null}"#;

async fn constant() -> Response {
    let mut response = BODY.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:0")
        .parse()
        .map_err(std::io::Error::other)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            {
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "bare-axum listening on http://{}",
                    listener.local_addr()?
                )?;
                out.flush()?;
            }
            axum::serve(listener, Router::new().fallback(constant)).await
        })
}
