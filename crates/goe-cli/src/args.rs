//! The command line: `goe [--host HOST] [--json] COMMAND …`.

use clap::{Parser, Subcommand, ValueEnum};
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  goe --host 192.168.1.50 status          summary: car, current, power per phase, energy, reason
  GOE_HOST=127.0.0.1:8080 goe status      the address from the environment instead of --host
  goe status amp frc lmo nrg              chosen keys as a table with names and units
  goe status --json                       the full status as JSON, for scripts
  goe get car                             one value: Charging (2)
  goe set amp=10 frc=on                   write; enum names and on/off accepted
  goe set lmo=eco fna='\"my garage\"'       values are JSON; bare text works for strings
  goe watch car amp nrg                   live view of changes (Ctrl-C to stop)
  goe watch --password \"$PW\" car amp      changes pushed over the WebSocket, no polling
  goe export --every 10s --format csv > log.csv
  goe record 192.168.1.50 -o charger.trace --redact   a trace for a bug report (Ctrl-C to stop)
  goe keys current                        search the key documentation
  goe completions bash > ~/.local/share/bash-completion/completions/goe

Exit status: 0 ok; 1 the charger refused a key (each key's result is shown) or lacks it;
2 bad usage (unknown key, bad value, no --host); 3 the charger could not be asked
(unreachable, HTTP API v2 disabled, or the address answers but not like a go-eCharger).";

/// Read and change a go-eCharger (or the virtual goe-charger) over its local HTTP API v2.
///
/// Knows every key of the API: its type, enum names, unit and description (`goe keys`).
#[derive(Debug, Parser)]
#[command(name = "goe", version, after_help = EXAMPLES)]
pub struct Cli {
    /// The charger: IP address, host name, HOST:PORT or http:// URL.
    #[arg(
        long,
        short = 'H',
        env = "GOE_HOST",
        global = true,
        value_name = "HOST"
    )]
    pub host: Option<String>,

    /// Print JSON instead of text (every command that reads).
    #[arg(long, global = true)]
    pub json: bool,

    /// Give up on a request after this long (e.g. 5s, 500ms).
    #[arg(long, global = true, default_value = "5s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,

    /// Reach the charger through the go-e cloud API v3: its serial number (sse).
    #[cfg(feature = "cloud")]
    #[arg(long, env = "GOE_CLOUD_SERIAL", global = true, value_name = "SERIAL")]
    pub cloud: Option<String>,

    /// The cloud API token (cak), with --cloud.
    #[cfg(feature = "cloud")]
    #[arg(
        long,
        env = "GOE_TOKEN",
        global = true,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,

    /// With --cloud: another endpoint than the go-e cloud, e.g. the stand-in
    /// of `goe-charger --cloud-listen` (`http://127.0.0.1:8090`; `{serial}`
    /// in the URL becomes the serial, else it is appended as a path segment).
    #[cfg(feature = "cloud")]
    #[arg(long, env = "GOE_CLOUD_URL", global = true, value_name = "URL")]
    pub cloud_url: Option<String>,

    /// Without the `cloud` feature, `--cloud` is still understood, so the
    /// error can say how to get it (hidden from the help).
    #[cfg(not(feature = "cloud"))]
    #[arg(long, global = true, hide = true, value_name = "SERIAL")]
    pub cloud: Option<String>,

    /// See `cloud` above: accepted only to be refused with the way to get it.
    #[cfg(not(feature = "cloud"))]
    #[arg(long, global = true, hide = true, value_name = "TOKEN")]
    pub token: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a summary of the charger, or the given keys as a table.
    #[command(after_help = "\
Examples:
  goe status                   car state, allowed current, power per phase, energy, reason, temperatures
  goe status amp frc lmo car   a table: key, value (with enum names), unit, description
  goe status --json            every key as one JSON object (firmware order)
  goe status --json car nrg    just these keys as JSON")]
    Status {
        /// Keys to show (see `goe keys`); none = the summary.
        #[arg(value_name = "KEY")]
        keys: Vec<String>,
    },

    /// Print one key's value (with enum name and unit; --json for the raw JSON).
    #[command(after_help = "\
Examples:
  goe get amp          16 A
  goe get car          Idle (1)
  goe get nrg          voltage, current, power and power factor per phase
  goe get --json nrg   [231,232,229,1,0,0,0,0,0,0,0,0,0,0,0,0]")]
    Get {
        /// The key (see `goe keys`).
        #[arg(value_name = "KEY")]
        key: String,
    },

    /// Change keys: KEY=VALUE, values as JSON or friendly words.
    #[command(after_help = "\
Values are JSON (numbers, true/false, null, \"strings\", [arrays], {objects}).
Friendly forms where the key allows them:
  enum names, any case:  frc=on  frc=off  frc=neutral  ust=alwayslock
  aliases:               lmo=default|basic, lmo=eco|awattar, lmo=nexttrip|automaticstop,
                         psm=auto|1p|3p
  bools:                 on/off, true/false, yes/no
  strings:               bare text (fna=garage); quote to keep spaces from the shell

All keys go to the charger in one request. If it refuses any key, each key's
result is shown and the exit status is 1 (the keys it accepted are applied).

Examples:
  goe set amp=10
  goe set frc=on lmo=eco
  goe set 'fna=\"my garage\"' dwo=null
  goe set 'ids={\"pGrid\":-1500,\"pPv\":2000}'")]
    Set {
        /// KEY=VALUE pairs.
        #[arg(value_name = "KEY=VALUE", required = true)]
        assignments: Vec<String>,
    },

    /// Watch keys live: changes are shown as they happen, highlighted.
    #[command(after_help = "\
Without a password the charger is polled (--every). With its password
(--password or GOE_PASSWORD) the values come over the charger's WebSocket as
they change, without polling. If the WebSocket cannot be used (no connection,
HTTP 400/404 instead of the upgrade, wrong password, connection lost), one
warning line on stderr says why and the watch polls instead.

On a terminal the view is redrawn in place; otherwise (or with --log) one line
is printed per change. --json prints one JSON object per poll (or WebSocket
update) with the changes. The output is the same whether polled or pushed.

Examples:
  goe watch                          car, current, mode, reason, power, energy, temperatures
  goe watch car amp nrg
  goe watch --every 5s --log
  goe watch --password \"$PW\" car     live over the WebSocket (or GOE_PASSWORD=…)
  goe watch --password \"$PW\" --count 2 car
                                     wait for the next change of car, then exit")]
    Watch {
        /// Keys to watch; none = the summary keys.
        #[arg(value_name = "KEY")]
        keys: Vec<String>,
        /// How often to poll the charger (without --password, or when the WebSocket cannot be used).
        #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
        every: Duration,
        /// Stop after this many polls; over the WebSocket, after this many updates
        /// that change a watched key (the first one shows every key).
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Print one line per change even on a terminal.
        #[arg(long)]
        log: bool,
        /// The charger's password (as set in the app): watch over its WebSocket,
        /// changes arrive as they happen.
        #[arg(
            long,
            env = "GOE_PASSWORD",
            hide_env_values = true,
            value_name = "PASSWORD"
        )]
        password: Option<String>,
    },

    /// Log keys at a fixed interval as CSV or JSON lines, until interrupted.
    #[command(after_help = "\
CSV columns: time (UTC, RFC 3339), then one per key; enum keys get an extra
KEY.name column, nrg is split into nrg.U1 … nrg.pfN, arrays and objects are
JSON text. JSON lines: {\"time\":…, KEY: raw value, …} per row.

Examples:
  goe export --every 1s --format csv > charge.csv
  goe export --every 10s --format jsonl car nrg wh
  goe export --count 1 --format csv amp car")]
    Export {
        /// Keys to log; none = the summary keys.
        #[arg(value_name = "KEY")]
        keys: Vec<String>,
        /// Interval between rows.
        #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
        every: Duration,
        /// Output format [default: csv, or jsonl with --json].
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Stop after this many rows.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },

    /// Record the charger to a trace file: its full status, then every change with its time.
    #[command(after_help = "\
A trace is JSON Lines (docs/trace-format.md): a header (format, version, when,
what, how, firmware, serial, redactions), the full status in the charger's
order, then one line per change with the milliseconds since the start. Read
it with `jq -c . FILE`; attach it to a bug report so the maintainers can
replay the charger.

With its password (--password or GOE_PASSWORD) the changes come over the
charger's WebSocket as they happen; otherwise /api/status is polled every
--every and compared with the previous answer. Recording ends with Ctrl-C,
--duration or --count; every line is written at once, so the file is a
valid trace whenever it stops.

Secrets never enter the trace (masked as the API masks them). --redact also
replaces the charger's address, Wi-Fi names and IP/MAC addresses in values by
fixed placeholders (the header lists what was redacted).

Examples:
  goe record 192.168.1.50 -o charger.trace              until Ctrl-C, polling every 1s
  goe record 192.168.1.50 -o charger.trace --redact --duration 10m
  goe record http://charger.local --password \"$PW\" -o charger.trace
  goe record 192.168.1.50 --count 20 -o - | jq -c .")]
    Record {
        /// The charger (instead of --host): IP address, host name, HOST:PORT or http:// URL.
        #[arg(value_name = "HOST|URL")]
        target: Option<String>,
        /// The trace file to write (replaced if it exists); `-` for stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: String,
        /// How often to poll the charger (without --password).
        #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
        every: Duration,
        /// Stop after this long (e.g. 10m, 1h), counted from the full status.
        #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
        duration: Option<Duration>,
        /// Stop after this many change lines.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Replace the address, Wi-Fi names (SSIDs), IP and MAC addresses by placeholders.
        #[arg(long)]
        redact: bool,
        /// The charger's password (as set in the app): record over its WebSocket.
        #[arg(
            long,
            env = "GOE_PASSWORD",
            hide_env_values = true,
            value_name = "PASSWORD"
        )]
        password: Option<String>,
    },

    /// Show the key documentation: access, type, unit, enum names, description.
    #[command(after_help = "\
PATTERN is a key name (details of that key) or a word searched in names and
descriptions, case-insensitive; `*` and `?` work as wildcards on names.

Examples:
  goe keys              all keys
  goe keys frc          one key in detail
  goe keys current      every key about current
  goe keys 'sch_*'      the scheduler keys")]
    Keys {
        /// Key name, word or wildcard pattern.
        #[arg(value_name = "PATTERN")]
        pattern: Option<String>,
    },

    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  goe completions bash > ~/.local/share/bash-completion/completions/goe
  goe completions zsh > ~/.zfunc/_goe
  goe completions fish > ~/.config/fish/completions/goe.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `1s`, `500ms`, `2m`, `1m 30s`, ISO 8601 (`PT5S`), or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = if let Ok(secs) = text.parse::<f64>() {
        Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
    } else {
        text.parse::<jiff::SignedDuration>()
            .map_err(|_| format!("{text:?} is not a duration (e.g. 1s, 500ms, 2m)"))
            .and_then(|d| Duration::try_from(d).map_err(|_| "negative duration".to_owned()))
    }?;
    if parsed.is_zero() {
        return Err("the duration must be more than 0".to_owned());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
