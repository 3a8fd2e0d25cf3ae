//! `goe`: read and change a go-eCharger (or `goe-charger`) from a terminal or a script.
//!
//! Every command is one or more requests to the charger's local HTTP API v2
//! through `goe-client`; names, types, enum values and units come from the key
//! table in `goe-keys`. Exit status: 0 ok, 1 the charger refused or lacks a
//! key, 2 bad usage, 3 the charger could not be asked.

mod args;
mod export;
mod keys;
mod output;
mod record;
mod redact;
mod watch;

use args::{Cli, Command};
use clap::{CommandFactory, Parser};
use goe_client::{Client, ClientError};
use output::Paint;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// Why a command failed, and so its exit status.
#[derive(Debug)]
pub enum Failure {
    /// From the client; the variant decides the exit status.
    Client(ClientError),
    /// Bad usage (exit 2).
    Usage(String),
    /// The charger answered but refused or lacked something (exit 1); already shown on stdout.
    Refused(String),
    /// Writing the output failed (a closed pipe ends quietly).
    Io(std::io::Error),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Client(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

/// Exit statuses.
const EXIT_REFUSED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_UNAVAILABLE: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("goe: error: cannot start: {e}");
            return ExitCode::from(EXIT_UNAVAILABLE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(failure),
    }
}

/// Prints the failure on stderr and picks the exit status.
fn report(failure: Failure) -> ExitCode {
    let (code, message, hint) = match failure {
        Failure::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return ExitCode::SUCCESS;
        }
        Failure::Io(e) => (EXIT_REFUSED, format!("cannot write the output: {e}"), None),
        Failure::Usage(m) => (EXIT_USAGE, m, None),
        Failure::Refused(m) => (EXIT_REFUSED, m, None),
        Failure::Client(e) => {
            let code = match &e {
                ClientError::PartialFailure { .. } | ClientError::Missing { .. } => EXIT_REFUSED,
                ClientError::UnknownKey { .. }
                | ClientError::NotReadable { .. }
                | ClientError::BadValue { .. }
                | ClientError::InvalidHost { .. } => EXIT_USAGE,
                _ => EXIT_UNAVAILABLE,
            };
            let hint = match &e {
                ClientError::UnknownKey { .. } => Some("`goe keys PATTERN` searches the keys"),
                ClientError::Unreachable { .. } => {
                    Some("check --host / GOE_HOST and that the charger is on the network")
                }
                ClientError::NotACharger { .. } => {
                    Some("check --host / GOE_HOST: is this the charger's address and port?")
                }
                _ => None,
            };
            (code, e.to_string(), hint)
        }
    };
    eprintln!("goe: error: {message}");
    if let Some(hint) = hint {
        eprintln!("goe: hint: {hint}");
    }
    ExitCode::from(code)
}

/// `1s`, `500ms`, `1m 30s` for messages.
pub fn every_text(every: Duration) -> String {
    goe_client::value::duration(jiff::SignedDuration::try_from(every).unwrap_or_default())
}

/// The client for `--host` (or `--cloud`), or a usage error.
fn connect(cli: &Cli) -> Result<Client, Failure> {
    #[cfg(feature = "cloud")]
    if let Some(serial) = &cli.cloud {
        let token = cli.token.as_deref().ok_or_else(|| {
            Failure::Usage("--cloud needs --token (or GOE_TOKEN): the cloud API key".to_owned())
        })?;
        return Ok(Client::cloud_at(cli.cloud_url.as_deref(), serial, token)?.timeout(cli.timeout));
    }
    let host = cli.host.as_deref().ok_or_else(|| {
        Failure::Usage(
            "no charger given: use --host HOST (or set GOE_HOST), e.g. --host 192.168.1.50"
                .to_owned(),
        )
    })?;
    Ok(Client::new(host)?.timeout(cli.timeout))
}

/// The keys `watch` and `export` follow: the ones named, or the default
/// live set when none are.
fn live_keys(keys: &[String]) -> Result<Vec<&str>, Failure> {
    if keys.is_empty() {
        Ok(output::DEFAULT_LIVE_KEYS.to_vec())
    } else {
        readable_keys(keys)
    }
}

/// Checks that every key exists and can be read.
fn readable_keys(keys: &[String]) -> Result<Vec<&str>, Failure> {
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let def = goe_client::input::key_def(key)?;
        if !def.access.readable() {
            return Err(ClientError::NotReadable { key: key.clone() }.into());
        }
        if !out.contains(&def.name) {
            out.push(def.name);
        }
    }
    Ok(out)
}

fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn print_json(json: &serde_json::Value) -> Result<(), Failure> {
    print(&format!("{json}\n"))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    #[cfg(not(feature = "cloud"))]
    if cli.cloud.is_some() || cli.token.is_some() {
        return Err(Failure::Usage(
            "this goe was built without the go-e cloud API: install it with \
             `cargo install --path crates/goe-cli --features cloud` (or run \
             `cargo run -p goe-cli --features cloud -- …`)"
                .to_owned(),
        ));
    }
    let paint = Paint::stdout();
    match &cli.command {
        Command::Status { keys } => {
            let client = connect(&cli)?;
            if keys.is_empty() {
                if cli.json {
                    let status = client.status().await?;
                    return print_json(&serde_json::Value::Object(status.into_json()));
                }
                let status = client.status_of(output::SUMMARY_KEYS).await?;
                return print(&output::summary(&status, paint));
            }
            let keys = readable_keys(keys)?;
            let status = client.status_of(&keys).await?;
            let missing: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| !status.contains(k))
                .collect();
            if cli.json {
                let map: serde_json::Map<String, serde_json::Value> = keys
                    .iter()
                    .filter_map(|k| status.raw(k).map(|v| ((*k).to_owned(), v.clone())))
                    .collect();
                print_json(&serde_json::Value::Object(map))?;
            } else {
                print(&output::key_table(&keys, &status, paint))?;
            }
            if !missing.is_empty() {
                return Err(Failure::Refused(format!(
                    "the charger did not report {}",
                    missing.join(", ")
                )));
            }
            Ok(())
        }
        Command::Get { key } => {
            let keys = readable_keys(std::slice::from_ref(key))?;
            let client = connect(&cli)?;
            let status = client.status_of(&keys).await?;
            let key = keys[0];
            let (Some(raw), Some(value)) = (status.raw(key), status.get(key)) else {
                return Err(ClientError::Missing {
                    key: key.to_owned(),
                }
                .into());
            };
            if cli.json {
                print_json(raw)
            } else {
                print(&output::get_text(key, &value))
            }
        }
        Command::Set { assignments } => {
            let mut pairs: Vec<(&str, serde_json::Value)> = Vec::with_capacity(assignments.len());
            for a in assignments {
                let Some((key, value)) = a.split_once('=') else {
                    return Err(Failure::Usage(format!(
                        "expected KEY=VALUE, got {a:?} (e.g. goe set amp=10)"
                    )));
                };
                let def = goe_client::input::key_def(key.trim())?;
                pairs.push((def.name, goe_client::input::parse_for(def, value)?));
            }
            let client = connect(&cli)?;
            let (results, failure) = match client.set(&pairs).await {
                Ok(results) => (results, None),
                Err(ClientError::PartialFailure { results }) => {
                    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
                    let msg = format!("the charger refused {failed} of {} key(s)", results.len());
                    (results, Some(Failure::Refused(msg)))
                }
                Err(e) => return Err(e.into()),
            };
            if cli.json {
                print_json(&output::set_results_json(&results))?;
            } else {
                print(&output::set_results(&pairs, &results, paint))?;
            }
            failure.map_or(Ok(()), Err)
        }
        Command::Watch {
            keys,
            every,
            count,
            log,
            password,
        } => {
            let keys = live_keys(keys)?;
            let client = connect(&cli)?;
            let options = watch::Options {
                every: *every,
                count: *count,
                log: *log,
                json: cli.json,
                password: password.as_deref(),
            };
            watch::run(&client, &keys, &options).await
        }
        Command::Export {
            keys,
            every,
            format,
            count,
        } => {
            let keys = live_keys(keys)?;
            let client = connect(&cli)?;
            let format = format.unwrap_or(if cli.json {
                args::Format::Jsonl
            } else {
                args::Format::Csv
            });
            export::run(&client, &keys, *every, format, *count).await
        }
        Command::Record {
            target,
            output,
            every,
            duration,
            count,
            redact,
            password,
        } => {
            let client = match target {
                Some(target) => Client::new(target)?.timeout(cli.timeout),
                None => connect(&cli)?,
            };
            let options = record::Options {
                output,
                every: *every,
                duration: *duration,
                count: *count,
                password: password.as_deref(),
                redact: *redact,
            };
            record::run(&client, &options).await
        }
        Command::Keys { pattern } => {
            let defs = keys::matching(pattern.as_deref());
            if defs.is_empty() {
                let pattern = pattern.as_deref().unwrap_or("");
                let suggestion = goe_client::suggest_key(pattern)
                    .map(|k| format!(" (did you mean {k}?)"))
                    .unwrap_or_default();
                return Err(Failure::Usage(format!(
                    "no key matches {pattern:?}{suggestion}"
                )));
            }
            if cli.json {
                let list: Vec<serde_json::Value> = defs.iter().map(|d| keys::json(d)).collect();
                return print_json(&serde_json::Value::Array(list));
            }
            if defs.len() == 1 {
                print(&keys::detail(defs[0], paint))
            } else {
                print(&keys::list(&defs, paint))
            }
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "goe", &mut out);
            print(&String::from_utf8_lossy(&out))
        }
    }
}
