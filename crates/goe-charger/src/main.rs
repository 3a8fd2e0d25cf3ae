//! The `goe-charger` command: one virtual go-eCharger on the local network API.

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use goe_charger::clock::{ClockMode, SimClock, host_now};
use goe_charger::device::Device;
use goe_charger::profiles::Profiles;
use goe_charger::scenario::{self, RunOptions, Scenario};
use goe_engine::SimTime;
use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};
use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// A virtual go-eCharger: answers the local HTTP API v2 like a real unit.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario file in-process on simulated time, as fast as possible;
    /// exits non-zero naming the failed assertion.
    RunScenario(ScenarioArgs),
    /// Control the simulated world of a running charger (the /sim/ API);
    /// `--serial` addresses one charger of a fleet through any listener.
    Sim(SimArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  goe-charger sim state
  goe-charger sim plug car=ev-1p-16a soc=30
  goe-charger sim --host 127.0.0.1:9000 --serial 100003 unplug
  goe-charger sim advance seconds=3600
  goe-charger sim fleet
  goe-charger sim fleet coordinator=lost

Exit status: 0 done; 1 the charger refused the action (its answer is shown);
2 bad usage (unknown action, parameter not name=value); 3 the charger could not be reached.")]
struct SimArgs {
    /// Address of a running goe-charger (any charger of a fleet).
    #[arg(long, default_value = "127.0.0.1:8080", env = "GOE_HOST")]
    host: String,
    /// Serial of the charger to control (fleet mode).
    #[arg(long)]
    serial: Option<String>,
    /// state, cars, fleet, plug, unplug, rfid, button, advance, clock, grid, battery, fault,
    /// temperature or legacy-access.
    action: String,
    /// Parameters as name=value (e.g. car=ev-1p-16a soc=30).
    params: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ScenarioArgs {
    /// The scenario (TOML).
    file: PathBuf,
    /// Seed of the simulation (overrides the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Extra custom car profiles (`[[car]]` tables).
    #[arg(long, value_name = "FILE")]
    cars: Option<PathBuf>,
    /// The firmware to run (overrides the scenario's `firmware`; default:
    /// the scenario's, else today's 060.5).
    #[arg(long, value_name = "VERSION", value_parser = parse_firmware)]
    firmware: Option<&'static goe_keys::Profile>,
}

/// The daemon's options (the default command).
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", env = "GOE_LISTEN")]
    listen: SocketAddr,
    /// Directory holding the charger's durable configuration (its "flash").
    #[arg(long, default_value = "./goe-data", env = "GOE_DATA_DIR")]
    data_dir: PathBuf,
    /// Serial number (6 digits on real units); defaults to the stored one, or 012345.
    #[arg(long, value_parser = parse_serial)]
    serial: Option<String>,
    /// How simulated time moves: `real` (host time × --speed) or `manual`
    /// (stands still until POST /sim/advance?seconds=S).
    #[arg(long, value_enum, default_value_t = ClockKind::Real)]
    clock: ClockKind,
    /// Simulated time runs N times faster than real time (with --clock real; default 1).
    #[arg(long, value_name = "N", value_parser = parse_speed)]
    speed: Option<f64>,
    /// Where simulated time begins, RFC 3339 (default: the host's time now).
    #[arg(long, value_name = "TIME", value_parser = parse_start)]
    start: Option<SimTime>,
    /// Seed for every random choice of the simulation (noise, car behaviour);
    /// given, it also makes the cloud tokens (cak), which otherwise come from the OS.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The firmware the charger runs: its keys, their types and defaults, and
    /// their order (060.5 today's, 056.2, or 051.4 the 2021 key table).
    #[arg(long, value_name = "VERSION", default_value = goe_keys::DEFAULT_FIRMWARE,
          env = "GOE_FIRMWARE", value_parser = parse_firmware)]
    firmware: &'static goe_keys::Profile,
    /// Custom car profiles for /sim/plug (TOML with `[[car]]` tables).
    #[arg(long, value_name = "FILE")]
    cars: Option<PathBuf>,
    /// Run this many chargers in one process (serials counting up from
    /// --serial or 100001, ports from --listen's port, data in DIR/<serial>).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    chargers: u32,
    /// A fleet file (TOML): `base_serial`, then `[[charger]]` tables with
    /// `count`, `config` and daily `[[charger.schedule]]` car plugs (see the
    /// README, "Fleets"); the number of chargers comes from the file.
    #[arg(long, value_name = "FILE", conflicts_with = "chargers")]
    fleet: Option<PathBuf>,
    /// Clone a real charger (#17): HOST (its /api/status is fetched once) or
    /// FILE (a saved /api/status body). Its keys in its order (unknown ones
    /// carried verbatim), the built-in firmware nearest to its fwv (--firmware
    /// without one), its settings copied (secrets excluded) and its serial
    /// (sse) unless --serial says otherwise. A restart on the same data
    /// directory without this option stays the clone.
    #[arg(long, value_name = "HOST|FILE", conflicts_with_all = ["chargers", "fleet"])]
    clone_from: Option<String>,
    /// Replay a trace of `goe record` (#17): its firmware (nearest to fwv),
    /// serial and recorded values on every API, following its timeline at
    /// --speed or with --clock manual and /sim/advance. Data in a fresh
    /// temporary directory unless --data-dir is given.
    #[arg(long, value_name = "TRACE", conflicts_with_all = ["chargers", "fleet", "clone_from"])]
    replay: Option<PathBuf>,
    /// Whether --data-dir (or GOE_DATA_DIR) was given, not defaulted.
    #[arg(skip)]
    data_dir_given: bool,
    /// Connect to this MQTT broker (`mqtt[s]://[user:pass@]host:port`): sets
    /// `mce=true`, `mcu=URL` and `mcr=false` (writes over MQTT allowed).
    #[arg(long, value_name = "URL", env = "GOE_MQTT")]
    mqtt: Option<String>,
    /// Connect to this OCPP 1.6J backend (`ws[s]://[user:pass@]host[:port]/path`,
    /// `{serial}` becomes each charger's serial): sets `ocppe=true`, `ocppu=URL`.
    #[arg(long, value_name = "URL", env = "GOE_OCPP")]
    ocpp: Option<String>,
    /// Serve the cloud API v3 stand-in here for every charger of the process
    /// (`/api/status`, `/api/set`; the charger by `Host: <serial>.api.v3.go-e.io`
    /// or the path `/<serial>/api/...`; token `cak`, enabled by `cae`).
    #[arg(long, value_name = "ADDR", env = "GOE_CLOUD_LISTEN")]
    cloud_listen: Option<SocketAddr>,
    /// Serve Modbus TCP on this address (port 0 picks a free one; a fleet's
    /// charger i gets the port + i) instead of `msp`/502; sets `men=true`.
    #[arg(long, value_name = "ADDR", env = "GOE_MODBUS_LISTEN")]
    modbus_listen: Option<SocketAddr>,
    /// Close a connection whose request head is not complete this long after
    /// its first byte, with 408 (like the real unit's 5 s receive timeout);
    /// also the longest pause inside a request body. E.g. 5s, 500ms.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    header_timeout: std::time::Duration,
    /// Close a keep-alive connection (HTTP or Modbus TCP) after this long
    /// without a request.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    idle_timeout: std::time::Duration,
    /// Most open HTTP/WebSocket connections per charger; a new one beyond
    /// closes the least recently used (idle ones first), like the real unit.
    #[arg(long, value_name = "N", default_value_t = goe_charger::http::conn::DEFAULT_MAX_CONNECTIONS as u32,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
}

impl ServeArgs {
    /// The connection limits of every listener.
    fn limits(&self) -> goe_charger::http::conn::Limits {
        goe_charger::http::conn::Limits {
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections as usize,
        }
    }
}

/// A duration flag: a number with `ms`, `s`, `m` or `h` (a bare number is
/// seconds), from 1 ms to a day.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    // jiff's friendly format (`5s`, `500ms`, `2m`, `1m30s`, ISO 8601), as `goe`'s
    // flags take it, or a bare number of seconds
    let t = s.trim();
    let parsed = match t.parse::<f64>() {
        Ok(secs) => std::time::Duration::try_from_secs_f64(secs).ok(),
        Err(_) => t
            .parse::<jiff::SignedDuration>()
            .ok()
            .and_then(|d| std::time::Duration::try_from(d).ok()),
    };
    let range = std::time::Duration::from_millis(1)..=std::time::Duration::from_secs(86_400);
    match parsed {
        Some(d) if range.contains(&d) => Ok(d),
        Some(_) => Err(format!(
            "{s:?}: a duration from 1ms to 24h (e.g. 5s, 500ms, 2m)"
        )),
        None => Err(format!(
            "{s:?}: a duration is a number with ms, s, m or h (e.g. 5s)"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ClockKind {
    /// Host time, scaled by --speed.
    Real,
    /// Stands still until advanced through the control API.
    Manual,
}

const EXAMPLES: &str = "Examples:
  goe-charger                                   # http://127.0.0.1:8080, data in ./goe-data
  curl -s 'http://127.0.0.1:8080/api/status?filter=alw,car,amp'
  curl -s 'http://127.0.0.1:8080/api/set?amp=10&fna=\"garage\"'
  goe-charger --speed 60                        # one simulated minute per second
  goe-charger --clock manual --start 2024-06-03T06:00:00Z --seed 1
  curl -s -X POST 'http://127.0.0.1:8080/sim/plug?car=ev-1p-16a&soc=30'
  curl -s -X POST 'http://127.0.0.1:8080/sim/advance?seconds=3600'
  goe-charger --mqtt mqtt://127.0.0.1:1883       # publish to a broker, accept /set
  goe-charger --ocpp 'ws://127.0.0.1:9000/ocpp/{serial}'   # talk to an OCPP backend
  goe-charger --clone-from 192.168.1.7          # a virtual twin of a real unit
  goe-charger --clone-from status.json          # ... or of its saved /api/status
  goe-charger run-scenario scenarios/pv-surplus-day.toml";

fn parse_serial(s: &str) -> Result<String, String> {
    if (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(s.to_owned())
    } else {
        Err("a serial is 1 to 16 letters or digits (real units: 6 digits)".into())
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if goe_charger::clock::valid_speed(v) => Ok(v),
        _ => Err(
            "the speed is a number above 0 and at most 1000000 (1 = real time, 60 = a minute per second)"
                .into(),
        ),
    }
}

fn parse_start(s: &str) -> Result<SimTime, String> {
    let t = scenario::parse_rfc3339(s)?;
    if !(0..=253_402_300_799_999).contains(&t.millis()) {
        return Err("the start must lie between 1970 and 9999".into());
    }
    Ok(t)
}

fn main() -> ExitCode {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // `--seed` given: reproducible runs, the cloud tokens included (#15);
    // otherwise they come from the OS
    if matches.value_source("seed") == Some(clap::parser::ValueSource::CommandLine) {
        goe_charger::device::seeded_cloud_tokens(true);
    }
    cli.serve.data_dir_given = matches
        .value_source("data_dir")
        .is_some_and(|s| s != clap::parser::ValueSource::DefaultValue);
    match cli.command {
        Some(Command::RunScenario(args)) => run_scenario(&args),
        Some(Command::Sim(args)) => sim_command(&args),
        None => {
            init_logging();
            let result = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")
                .and_then(|rt| rt.block_on(serve(cli.serve)));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    // `{:#}`: the chain of causes on one line; `{:?}` would add
                    // a stack trace under RUST_BACKTRACE=1, which a user error
                    // does not deserve
                    eprintln!("Error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// The actions of `goe-charger sim` and whether each is a POST: the control
/// endpoints, and `fleet` (GET; a POST with `coordinator=…`).
fn sim_actions() -> Vec<(&'static str, bool)> {
    let mut actions: Vec<_> = goe_charger::sim_api::endpoint_names().collect();
    actions.push(("fleet", false));
    actions
}

/// The innermost cause of a failed request, in words ("connection refused").
fn request_failure(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_owned();
    }
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        if let Some(io) = next.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                std::io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
                _ => io.to_string(),
            };
        }
        cause = next;
    }
    cause.to_string()
}

/// Libraries whose debug/trace events print what goes over the wire, and
/// with it secrets: tungstenite logs every WebSocket frame (new passwords,
/// `wak`, Wi-Fi keys, card ids in `securedMsg`s), hyper/hyper-util and axum
/// request lines and rejections (`/api/set?pass=…`), rumqttc and reqwest
/// packets and URLs (broker passwords). They are switched off whatever
/// `RUST_LOG` says, also for a more specific directive such as
/// `tungstenite::protocol=trace`: no log level may print a secret. Our own
/// events (`goe_charger`, …) never contain raw values of secret keys.
const PAYLOAD_LOGGERS: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "axum",
    "tower",
    "tower_http",
    "rumqttc",
    "reqwest",
    "mio",
    // (certificate chains and trust anchors at trace level, #15)
    "rustls",
    "tokio_rustls",
];

/// Whether `target` (a module path) belongs to one of [`PAYLOAD_LOGGERS`].
fn is_payload_logger(target: &str) -> bool {
    PAYLOAD_LOGGERS.iter().any(|name| {
        target
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Logs to stderr at `RUST_LOG` (default `info`), never from [`PAYLOAD_LOGGERS`].
fn init_logging() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let levels = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // a filter of its own after the levels, not a directive among them: no
    // RUST_LOG directive can override it (`log` records of these crates come
    // through tracing-log with the same module-path targets)
    let no_payloads =
        tracing_subscriber::filter::filter_fn(|meta| !is_payload_logger(meta.target()));
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(levels)
        .with_filter(no_payloads);
    tracing_subscriber::registry().with(output).init();
}

/// `goe-charger sim …`: one request to the control API, its answer on stdout.
fn sim_command(args: &SimArgs) -> ExitCode {
    let actions = sim_actions();
    let Some(&(_, post)) = actions.iter().find(|(name, _)| *name == args.action) else {
        let names: Vec<&str> = actions.iter().map(|(name, _)| *name).collect();
        eprintln!(
            "Error: unknown action {:?}; known actions: {}",
            args.action,
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(serial) = &args.serial {
        pairs.push(("serial".into(), serial.clone()));
    }
    for p in &args.params {
        let Some((k, v)) = p.split_once('=') else {
            eprintln!("Error: parameter {p:?} is not name=value");
            return ExitCode::from(2);
        };
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();
    let host = args.host.trim_end_matches('/');
    let base = if host.starts_with("http://") {
        host.to_owned()
    } else {
        format!("http://{host}")
    };
    let url = if query.is_empty() {
        format!("{base}/sim/{}", args.action)
    } else {
        format!("{base}/sim/{}?{query}", args.action)
    };
    // `fleet` with parameters (coordinator=lost|ok) changes the fleet
    let fleet_change = args.action == "fleet" && !args.params.is_empty();
    let get = !post && !fleet_change;
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(async {
                let client = reqwest::Client::new();
                let request = if get {
                    client.get(&url)
                } else {
                    client.post(&url)
                };
                let response = request.send().await.map_err(|e| {
                    let reason = request_failure(&e);
                    let hint = if reason == "connection refused" {
                        " (is goe-charger running there? --host or GOE_HOST names it)"
                    } else {
                        ""
                    };
                    format!("cannot reach goe-charger at {host}: {reason}{hint}")
                })?;
                let status = response.status();
                let body = response.text().await.map_err(|e| e.to_string())?;
                Ok::<_, String>((status, body))
            })
        });
    match result {
        Ok((status, body)) if status.is_success() => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Ok((status, body)) => {
            eprintln!("Error: HTTP {status}: {body}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::from(3)
        }
    }
}

fn run_scenario(args: &ScenarioArgs) -> ExitCode {
    let scenario = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(2);
        }
    };
    let profiles = match &args.cars {
        Some(path) => match Profiles::load(path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("Error: {e}");
                return ExitCode::from(2);
            }
        },
        None => Profiles::builtin(),
    };
    let options = RunOptions {
        seed: args.seed,
        firmware: args.firmware,
        profiles,
        progress: std::io::stderr().is_terminal().then(simulated_time_bar),
    };
    let started = std::time::Instant::now();
    let stdout = std::io::stdout();
    let mut out = std::io::LineWriter::new(stdout.lock());
    let report = scenario::run_with(&scenario, &options, &mut |line| match &options.progress {
        // the bar (once the run knows its length) steps aside while a line
        // goes out to the same terminal
        Some(bar) if bar.length().is_some() => bar.suspend(|| {
            let _ = writeln!(out, "{line}");
        }),
        _ => {
            let _ = writeln!(out, "{line}");
        }
    });
    if let Some(bar) = &options.progress {
        bar.finish_and_clear();
    }
    let _ = out.flush();
    drop(out);
    eprintln!(
        "{} simulated seconds in {:.2} s",
        report.seconds,
        started.elapsed().as_secs_f64()
    );
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        for f in &report.failures {
            eprintln!("failed at {}: {}", f.time, f.message);
        }
        ExitCode::FAILURE
    }
}

/// The bar of `run-scenario` (only made when stderr is a terminal): simulated
/// time done of the whole run, with the wall time's ETA.
fn simulated_time_bar() -> ProgressBar {
    let bar = ProgressBar::no_length().with_finish(ProgressFinish::AndClear);
    bar.set_style(
        ProgressStyle::with_template("{simulated} simulated [{wide_bar}] {percent:>3}% eta {eta}")
            .expect("template")
            .with_key(
                "simulated",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(
                        w,
                        "{} / {}",
                        span(state.pos()),
                        span(state.len().unwrap_or(0))
                    );
                },
            )
            .progress_chars("=> "),
    );
    bar
}

/// Simulated seconds as `02:03:04`, or `1d 02:03:04` from a day on.
fn span(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The bar of fleet start-up over `count` chargers: a bar on a terminal,
/// hidden (prints nothing) when stderr is not one. Cleared when dropped, so
/// an error leaves no bar behind.
fn startup_bar(count: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(count as u64).with_finish(ProgressFinish::AndClear);
    bar.set_style(
        ProgressStyle::with_template("{msg} {pos}/{len} [{wide_bar}] eta {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar
}

/// Moves a start-up bar to `done` chargers through `stage`; a new stage
/// restarts the count and the ETA.
fn advance(bar: &ProgressBar, stage: &str, done: usize) {
    if bar.message() != stage {
        bar.set_message(stage.to_owned());
        bar.reset_eta();
    }
    bar.set_position(done as u64);
}

async fn serve(mut args: ServeArgs) -> anyhow::Result<()> {
    let start = args.start.unwrap_or_else(host_now);
    let mode = match (args.clock, args.speed) {
        (ClockKind::Manual, Some(_)) => {
            anyhow::bail!(
                "--speed applies to --clock real; a manual clock moves only when advanced"
            )
        }
        (ClockKind::Manual, None) => ClockMode::Manual,
        (ClockKind::Real, speed) => ClockMode::Real {
            speed: speed.unwrap_or(1.0),
        },
    };
    let profiles = match &args.cars {
        Some(path) => Profiles::load(path).map_err(anyhow::Error::msg)?,
        None => Profiles::builtin(),
    };
    if args.chargers > 1 || args.fleet.is_some() {
        return serve_fleet(args, start, mode, profiles).await;
    }
    // --replay (#17): the trace's firmware and serial, a fresh data directory
    let mut replay =
        goe_charger::replay::Start::prepare(args.replay.as_deref()).map_err(anyhow::Error::msg)?;
    replay.adjust(
        &mut args.firmware,
        &mut args.serial,
        &mut args.data_dir,
        args.data_dir_given,
    )?;
    // a clone's capture is read (or fetched) before anything is bound or claimed
    let clone = match &args.clone_from {
        Some(arg) => {
            let source = goe_charger::clone::CloneSource::parse(arg);
            let (capture, profile) = source.load(args.firmware).await?;
            Some((source, capture, profile))
        }
        None => None,
    };
    let firmware = clone.as_ref().map_or(args.firmware, |(_, _, p)| *p);
    let serial = args.serial.clone().or_else(|| {
        clone
            .as_ref()
            .and_then(|(_, c, _)| goe_charger::clone::captured_serial(c))
    });
    // Signal handlers exist before anyone can learn our address, so an early
    // SIGTERM always shuts down cleanly. The listener is bound before the
    // data directory is claimed: a start that fails on the port leaves the
    // directory untouched (no config.json, no rbc+1, no lock).
    let shutdown = shutdown_signal()?;
    let listener = bind(args.listen).await?;
    let cloud_listener = bind_cloud(args.cloud_listen).await?;
    if args.modbus_listen.is_some() && firmware.key("men").is_none() {
        anyhow::bail!(
            "--modbus-listen: firmware {} has no Modbus TCP slave (no men key; 052.0 and newer have one)",
            firmware.firmware
        );
    }
    let modbus = match args.modbus_listen {
        Some(addr) => Some(bind(addr).await.context("--modbus-listen")?),
        None => None,
    };
    // a bad --mqtt URL stops the start before the data directory is claimed
    if let Some(url) = &args.mqtt {
        check_mqtt_url(url)?;
    }
    let device = Device::open_on(
        firmware,
        &args.data_dir,
        serial.as_deref(),
        SimClock::new(start, mode),
        args.seed,
    )?
    .with_profiles(profiles);
    if let Some((source, capture, profile)) = &clone {
        let (copied, refused) = goe_charger::clone::copy_settings(&device, capture);
        for (key, error) in &refused {
            let raw = capture.raw(key).unwrap_or("");
            eprintln!(
                "goe-charger: --clone-from: setting {key} not copied: {}",
                error.http_text(key, raw)
            );
        }
        let base = profile.capture().map_or(profile.fwv, |(_, b)| b.fwv);
        eprintln!(
            "goe-charger: cloned {}: {} keys ({} carried verbatim), {copied} settings copied, {} refused; firmware {base} (fwv {})",
            source.origin(),
            capture.entries.len(),
            profile.verbatim_count(),
            refused.len(),
            profile.fwv,
        );
    }
    let device = replay.attach(device);
    if let Some(url) = &args.mqtt {
        let mut json_url = String::new();
        goe_keys::value::write_string(url, &mut json_url);
        let pairs = [
            ("mcu".to_owned(), json_url),
            ("mcr".to_owned(), "false".to_owned()),
            ("mce".to_owned(), "true".to_owned()),
        ];
        let reply = device.set(&pairs);
        anyhow::ensure!(
            reply.all_ok,
            "--mqtt {}: {}",
            goe_keys::render::mask_url_password(url),
            reply.body
        );
    }
    if let Some(url) = &args.ocpp {
        connect_ocpp(&device, url)?;
    }
    modbus_setup(&device, &args, 0)?;
    if let Some(modbus) = modbus {
        let addr = args.modbus_listen.context("--modbus-listen")?;
        device.modbus().set_listener(modbus, addr);
    }
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "goe-charger listening on http://{addr}")?;
        print_cloud(&mut out, cloud_listener.as_ref())?;
        out.flush()?;
    }
    tracing::info!(
        serial = %device.serial(),
        data_dir = %args.data_dir.display(),
        clock = ?mode,
        seed = args.seed,
        firmware = %device.firmware().firmware,
        "charger started"
    );
    let device = Arc::new(device);
    let cloud = spawn_cloud(cloud_listener, vec![device.clone()], args.limits());
    goe_charger::serve_with(listener, device, args.limits(), shutdown).await?;
    if let Some(cloud) = cloud {
        cloud.abort();
    }
    tracing::info!("charger stopped");
    Ok(())
}

/// `--firmware`: a known profile, or the list of the known ones.
fn parse_firmware(text: &str) -> Result<&'static goe_keys::Profile, String> {
    goe_keys::profile(text).map_err(|e| e.to_string())
}

/// `--ocpp URL`: `ocppu` and `ocppe` as `/api/set` writes them (an error
/// names the flag; the password is masked).
fn connect_ocpp(device: &Device, url: &str) -> anyhow::Result<()> {
    let mut json_url = String::new();
    goe_keys::value::write_string(url, &mut json_url);
    let reply = device.set(&[
        ("ocppu".to_owned(), json_url),
        ("ocppe".to_owned(), "true".to_owned()),
    ]);
    anyhow::ensure!(
        reply.all_ok,
        "--ocpp {}: {}",
        goe_keys::render::mask_url_password(url),
        reply.body
    );
    Ok(())
}

/// `--modbus-listen`: charger `index`'s Modbus address (the port + index,
/// port 0 stays 0) and `men=true`; without it the slave binds `--listen`'s IP
/// with `msp` (502) whenever `men` is on.
fn modbus_setup(device: &Device, args: &ServeArgs, index: usize) -> anyhow::Result<()> {
    device.modbus().set_idle_timeout(args.idle_timeout);
    // a fleet's members without Modbus (051.4) are left out
    if device.firmware().key("men").is_none() {
        return Ok(());
    }
    let Some(mut addr) = args.modbus_listen else {
        device.modbus().set_ip(args.listen.ip());
        return Ok(());
    };
    if addr.port() != 0 {
        let port = u16::try_from(u32::from(addr.port()) + index as u32)
            .context("--chargers N needs N ports from --modbus-listen's port on")?;
        addr.set_port(port);
    }
    device.modbus().set_listen(addr);
    let reply = device.set(&[("men".to_owned(), "true".to_owned())]);
    anyhow::ensure!(reply.all_ok, "--modbus-listen {addr}: {}", reply.body);
    Ok(())
}

/// Refuses a `--mqtt` URL that `mcu` would refuse, before anything is opened
/// (the same rule as `/api/set?mcu=`; the password is masked in the message).
fn check_mqtt_url(url: &str) -> anyhow::Result<()> {
    let def = goe_keys::key("mcu").context("the key table has no mcu")?;
    let values: Vec<goe_keys::Value> = Vec::new();
    goe_keys::set::validate(def, &serde_json::Value::String(url.to_owned()), &values)
        .map(drop)
        .map_err(|e| {
            anyhow::anyhow!(
                "--mqtt {}: {}",
                goe_keys::render::mask_url_password(url),
                e.http_text("mcu", goe_charger::device::MASK)
            )
        })
}

/// Binds a listener; "address in use" says who is the likely culprit.
async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "cannot listen on {addr}: the address is in use: another goe-charger \
                 (or another program) may be running there; stop it or choose another \
                 port with --listen (port 0 picks a free one)"
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot listen on {addr}"))
        }
    })
}

/// Runs `--chargers N` chargers on one clock.
async fn serve_fleet(
    args: ServeArgs,
    start: SimTime,
    mode: ClockMode,
    profiles: Profiles,
) -> anyhow::Result<()> {
    use goe_charger::fleet::{Fleet, serial_of};
    // every charger needs a listener and a broker connection: lift the fd limit
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let clock = Arc::new(SimClock::new(start, mode));
    let file = match &args.fleet {
        Some(path) => {
            Some(goe_charger::fleet_file::FleetFile::load(path).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let count = file
        .as_ref()
        .map_or(args.chargers as usize, |file| file.count());
    // Listeners first (like a single charger): a start that fails on a port
    // or on a bad --mqtt URL leaves the data directories untouched.
    if let Some(url) = &args.mqtt {
        check_mqtt_url(url)?;
    }
    let shutdown = shutdown_signal()?;
    let mut listeners = Vec::with_capacity(count);
    {
        let bar = startup_bar(count);
        for i in 0..count {
            let mut addr = args.listen;
            if addr.port() != 0 {
                let port = u16::try_from(u32::from(addr.port()) + i as u32)
                    .context("--chargers N needs N ports from --listen's port on")?;
                addr.set_port(port);
            }
            let listener = bind(addr).await?;
            listeners.push(listener);
            advance(&bar, "binding listeners", i + 1);
        }
    }
    let cloud_listener = bind_cloud(args.cloud_listen).await?;
    let (fleet, base) = match &file {
        Some(file) => {
            let bar = startup_bar(file.count());
            let fleet = Fleet::from_file_with_progress(
                &args.data_dir,
                file,
                args.firmware,
                clock,
                args.seed,
                &profiles,
                &|stage, done| advance(&bar, stage, done),
            )
            .map_err(anyhow::Error::msg)?;
            (fleet, file.base_serial)
        }
        None => {
            let base = match &args.serial {
                Some(s) => s.parse::<u64>().context(
                    "with --chargers, --serial is the first serial and must be a number",
                )?,
                None => 100_001,
            };
            let count = args.chargers as usize;
            let bar = startup_bar(count);
            let fleet = Fleet::open_with_progress(
                &args.data_dir,
                &goe_charger::fleet::Members::consecutive(count, base, args.firmware),
                clock,
                args.seed,
                &profiles,
                &|stage, done| advance(&bar, stage, done),
            )?;
            (fleet, base)
        }
    };
    let count = fleet.devices().len();
    let bar = startup_bar(count);
    if let Some(url) = &args.mqtt {
        let mut json_url = String::new();
        goe_keys::value::write_string(url, &mut json_url);
        for (i, d) in fleet.devices().iter().enumerate() {
            let reply = d.set(&[
                ("mcu".to_owned(), json_url.clone()),
                ("mcr".to_owned(), "false".to_owned()),
                ("mce".to_owned(), "true".to_owned()),
            ]);
            anyhow::ensure!(
                reply.all_ok,
                "--mqtt {}: {}",
                goe_keys::render::mask_url_password(url),
                reply.body
            );
            advance(&bar, "configuring MQTT", i + 1);
        }
    }
    if let Some(url) = &args.ocpp {
        for (i, d) in fleet.devices().iter().enumerate() {
            connect_ocpp(d, url)?;
            advance(&bar, "configuring OCPP", i + 1);
        }
    }
    for (i, d) in fleet.devices().iter().enumerate() {
        match file.as_ref().and_then(|f| f.modbus_port(i)) {
            // the fleet file's `modbus_port` (on --listen's IP) wins for its entries
            Some(port) => {
                d.modbus().set_idle_timeout(args.idle_timeout);
                d.modbus()
                    .set_listen(SocketAddr::new(args.listen.ip(), port));
                let reply = d.set(&[("men".to_owned(), "true".to_owned())]);
                anyhow::ensure!(reply.all_ok, "modbus_port {port}: {}", reply.body);
            }
            None => modbus_setup(d, &args, i)?,
        }
    }
    bar.finish_and_clear();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "goe-charger fleet of {count} chargers")?;
        for (i, l) in listeners.iter().enumerate() {
            writeln!(
                out,
                "goe-charger {} listening on http://{}",
                serial_of(base, i),
                l.local_addr()?
            )?;
        }
        print_cloud(&mut out, cloud_listener.as_ref())?;
        out.flush()?;
    }
    tracing::info!(count, clock = ?mode, seed = args.seed, "fleet started");
    let fleet = Arc::new(fleet);
    let cloud = spawn_cloud(cloud_listener, fleet.devices().to_vec(), args.limits());
    goe_charger::fleet::serve_fleet_with(fleet, listeners, args.limits(), shutdown).await?;
    if let Some(cloud) = cloud {
        cloud.abort();
    }
    tracing::info!("fleet stopped");
    Ok(())
}

/// Binds `--cloud-listen` (before any data directory is claimed).
async fn bind_cloud(addr: Option<SocketAddr>) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    match addr {
        Some(addr) => Ok(Some(bind(addr).await?)),
        None => Ok(None),
    }
}

/// The stdout line naming the cloud stand-in's address.
fn print_cloud(
    out: &mut impl std::io::Write,
    listener: Option<&tokio::net::TcpListener>,
) -> anyhow::Result<()> {
    if let Some(l) = listener {
        writeln!(
            out,
            "goe-charger cloud API listening on http://{}",
            l.local_addr()?
        )?;
    }
    Ok(())
}

/// Starts the cloud API stand-in for `devices` on `listener`, if there is one.
fn spawn_cloud(
    listener: Option<tokio::net::TcpListener>,
    devices: Vec<Arc<Device>>,
    limits: goe_charger::http::conn::Limits,
) -> Option<tokio::task::JoinHandle<()>> {
    let listener = listener?;
    Some(tokio::spawn(async move {
        if let Err(e) =
            goe_charger::cloud::serve(listener, devices, limits, std::future::pending()).await
        {
            tracing::error!("cloud API stand-in stopped: {e}");
        }
    }))
}

/// Installs the SIGINT/SIGTERM handlers now and returns the future that
/// completes when one arrives.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
    })
}

/// Installs the Ctrl-C handler and returns the future that completes on it.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
