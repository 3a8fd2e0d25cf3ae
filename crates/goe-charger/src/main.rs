//! The `goe-charger` command: one virtual go-eCharger on the local network API.

use anyhow::Context as _;
use clap::Parser;
use goe_charger::clock::SimClock;
use goe_charger::device::Device;
use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// A virtual go-eCharger: answers the local HTTP API v2 like a real unit.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", env = "GOE_LISTEN")]
    listen: SocketAddr,
    /// Directory holding the charger's durable configuration (its "flash").
    #[arg(long, default_value = "./goe-data", env = "GOE_DATA_DIR")]
    data_dir: PathBuf,
    /// Serial number (6 digits on real units); defaults to the stored one, or 012345.
    #[arg(long, value_parser = parse_serial)]
    serial: Option<String>,
}

const EXAMPLES: &str = "Examples:
  goe-charger                                   # http://127.0.0.1:8080, data in ./goe-data
  curl -s 'http://127.0.0.1:8080/api/status?filter=alw,car,amp'
  curl -s 'http://127.0.0.1:8080/api/set?amp=10&fna=\"garage\"'";

fn parse_serial(s: &str) -> Result<String, String> {
    if (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(s.to_owned())
    } else {
        Err("a serial is 1 to 16 letters or digits (real units: 6 digits)".into())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let device = Device::open(
        &args.data_dir,
        args.serial.as_deref(),
        SimClock::real_time(),
    )?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "goe-charger listening on http://{addr}")?;
        out.flush()?;
    }
    tracing::info!(serial = %device.serial(), data_dir = %args.data_dir.display(), "charger started");
    goe_charger::serve(listener, Arc::new(device), shutdown_signal()).await?;
    tracing::info!("charger stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
