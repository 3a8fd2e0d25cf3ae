//! Helpers of the `goe` CLI tests: a real `goe-charger` server on 127.0.0.1
//! (in this process, on its own thread and runtime) and runs of the `goe` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

/// The binary under test.
pub const GOE: &str = env!("CARGO_BIN_EXE_goe");

/// How long a streaming command may stay silent before the test gives up
/// (a hang guard, not a timing assertion).
pub const HANG_GUARD: Duration = Duration::from_secs(30);

/// A virtual charger on a free port, stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A charger of the default firmware.
    pub fn start() -> Server {
        Server::start_on(goe_keys::default_profile())
    }

    /// A charger of firmware `profile`.
    pub fn start_on(profile: &'static goe_keys::Profile) -> Server {
        Server::start_with(profile, goe_charger::clock::SimClock::real_time())
    }

    /// A charger of firmware `profile` on `clock` (e.g. a manual one, moved by `/sim/advance`).
    pub fn start_with(
        profile: &'static goe_keys::Profile,
        clock: goe_charger::clock::SimClock,
    ) -> Server {
        Server::start_device(move |data| {
            goe_charger::device::Device::open_on(profile, data, None, clock, 1).unwrap()
        })
    }

    /// The charger `open` makes in a fresh data directory (e.g. one replaying a trace).
    pub fn start_device(
        open: impl FnOnce(&std::path::Path) -> goe_charger::device::Device + Send + 'static,
    ) -> Server {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let data = dir.path().to_owned();
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let device = open(&data);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                goe_charger::serve(listener, Arc::new(device), async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(HANG_GUARD).expect("server start");
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }

    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `goe --host ADDR ARGS…`.
    pub fn goe(&self, args: &[&str]) -> Run {
        let mut all = vec!["--host".to_owned(), self.host()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        goe(&all.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Starts `goe --host ADDR ARGS…` with stdout piped line by line.
    pub fn spawn(&self, args: &[&str]) -> Streaming {
        let mut cmd = command();
        cmd.arg("--host").arg(self.host()).args(args);
        Streaming::start(cmd, false)
    }

    /// [`Server::spawn`] with extra environment variables, stderr piped line by line too.
    pub fn spawn_capturing(&self, args: &[&str], env: &[(&str, &str)]) -> Streaming {
        let mut cmd = command();
        cmd.arg("--host").arg(self.host()).args(args);
        cmd.envs(env.iter().copied());
        Streaming::start(cmd, true)
    }
}

/// One charger shared by the tests that only read (booting one takes a moment:
/// the firmware's PBKDF2). Tests that write start their own.
pub fn shared() -> &'static Server {
    static SHARED: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    SHARED.get_or_init(Server::start)
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A finished run of `goe`.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The `goe` command with a clean environment (no GOE_HOST, no colours).
pub fn command() -> Command {
    let mut cmd = Command::new(GOE);
    cmd.env_remove("GOE_HOST")
        .env_remove("GOE_TOKEN")
        .env_remove("GOE_CLOUD_SERIAL")
        .env_remove("GOE_PASSWORD")
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .stdin(Stdio::null());
    cmd
}

/// `goe ARGS…` without a host.
pub fn goe(args: &[&str]) -> Run {
    Run::from(command().args(args).output().expect("run goe"))
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A running `goe` whose stdout lines (and, if captured, stderr lines) arrive on channels.
pub struct Streaming {
    child: Child,
    lines: mpsc::Receiver<String>,
    err_lines: Option<mpsc::Receiver<String>>,
}

/// Sends the lines of `stream` to a channel until it ends.
fn line_channel(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

impl Streaming {
    fn start(mut cmd: Command, capture_stderr: bool) -> Streaming {
        let stderr = if capture_stderr {
            Stdio::piped()
        } else {
            Stdio::inherit()
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn goe");
        let lines = line_channel(child.stdout.take().unwrap());
        let err_lines = child.stderr.take().map(line_channel);
        Streaming {
            child,
            lines,
            err_lines,
        }
    }

    /// The next stderr line (captured runs only); panics after [`HANG_GUARD`] of silence.
    #[track_caller]
    pub fn err_line(&self) -> String {
        self.err_lines
            .as_ref()
            .expect("stderr is captured")
            .recv_timeout(HANG_GUARD)
            .expect("goe printed no further line on stderr")
    }

    /// Waits for the process to end by itself; its exit code and the stderr
    /// lines not read yet (captured runs only).
    pub fn wait_with_stderr(mut self) -> (i32, Vec<String>) {
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        let rest = match &self.err_lines {
            Some(lines) => std::iter::from_fn(|| lines.recv_timeout(HANG_GUARD).ok()).collect(),
            None => Vec::new(),
        };
        (code, rest)
    }

    /// The next line; panics after [`HANG_GUARD`] of silence or at the end of the output.
    #[track_caller]
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(HANG_GUARD)
            .expect("goe printed no further line")
    }

    /// Lines until one satisfies `pred` (returned last).
    #[track_caller]
    pub fn until(&self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self.line();
            let done = pred(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    /// Waits for the process to end (it must end by itself) and returns its exit code.
    pub fn wait(mut self) -> i32 {
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Replaces the values of lines that change between runs (voltages, uptime, clock).
pub fn redact_summary(text: &str) -> String {
    text.lines()
        .map(|l| {
            let volatile = ["  L1", "  L2", "  L3", "Uptime", "Clock"]
                .iter()
                .any(|p| l.starts_with(p));
            if volatile {
                format!("{:<14}[varies]", &l[..l.len().min(14)].trim_end())
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
