//! A tiny disk for the full-disk tests: a 1 MiB tmpfs mounted in a temporary
//! directory (the tests run as root, locally and in CI), filled up with a
//! filler file on demand. Where the mount is refused (no `CAP_SYS_ADMIN`),
//! the store's test hook (`goe_store::FAULT_FILE_ENV`) stands in: "filling"
//! creates the file that makes every save fail. Either way the test prints
//! which one it used; nothing is skipped. Unmounted when dropped.
//!
//! Also a minimal spawner of the real binary with that environment and
//! several listening lines (fleets), since the common helpers take no env.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_goe-charger");

/// A small file system that can be filled up, or the injected stand-in.
pub struct TinyDisk {
    /// Where the data directories go.
    pub root: PathBuf,
    mounted: bool,
    fault_file: PathBuf,
    filler: PathBuf,
    _tmp: tempfile::TempDir,
}

impl TinyDisk {
    /// Mounts a 1 MiB tmpfs, or falls back to the injected store failure.
    pub fn new() -> TinyDisk {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("disk");
        std::fs::create_dir(&root).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&root)
            .output();
        let mounted = matches!(&out, Ok(o) if o.status.success());
        if mounted {
            eprintln!("tiny disk: a real 1 MiB tmpfs at {}", root.display());
        } else {
            let why = match &out {
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                Err(e) => e.to_string(),
            };
            eprintln!(
                "tiny disk: mount refused ({why}); using the injected store failure ({})",
                goe_store::FAULT_FILE_ENV
            );
        }
        TinyDisk {
            fault_file: tmp.path().join("disk-is-full"),
            filler: root.join("filler"),
            root,
            mounted,
            _tmp: tmp,
        }
    }

    /// Takes every byte that is left (or switches the injected failure on).
    pub fn fill(&self) {
        if !self.mounted {
            std::fs::write(&self.fault_file, b"").unwrap();
            return;
        }
        let mut f = std::fs::File::create(&self.filler).expect("filler");
        let chunk = vec![0xA5u8; 64 * 1024];
        let mut size = chunk.len();
        // big writes first, then smaller ones, until not one byte fits
        while size > 0 {
            match f.write(&chunk[..size]) {
                Ok(0) | Err(_) => size /= 2,
                Ok(_) => {}
            }
        }
        let _ = f.sync_all();
    }

    /// Frees the space again (or switches the injected failure off).
    pub fn unfill(&self) {
        let _ = std::fs::remove_file(&self.filler);
        let _ = std::fs::remove_file(&self.fault_file);
    }

    /// The environment a charger on this disk needs.
    pub fn env(&self) -> Vec<(String, PathBuf)> {
        if self.mounted {
            Vec::new()
        } else {
            vec![(
                goe_store::FAULT_FILE_ENV.to_owned(),
                self.fault_file.clone(),
            )]
        }
    }

    /// Starts a charger with its data in `root/<name>` (`args` after it).
    pub fn start(&self, name: &str, args: &[&str]) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(self.root.join(name))
            .args(args);
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        Proc::spawn(cmd, 1).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs a charger that is expected not to start; what it said (exit
    /// status and stderr).
    pub fn fail_to_start(&self, name: &str, args: &[&str]) -> String {
        let mut cmd = Command::new(BIN);
        cmd.arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(self.root.join(name))
            .args(args);
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        match Proc::spawn(cmd, 1) {
            Ok(_) => panic!("the charger started although it should not have"),
            Err(e) => e,
        }
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.root).status();
        }
    }
}

/// A running charger process (killed with SIGKILL when dropped).
pub struct Proc {
    child: Child,
    /// The ports it listens on, in the order printed.
    pub ports: Vec<u16>,
    stderr: Arc<Mutex<String>>,
}

impl Proc {
    /// Spawns `cmd` and waits for `listeners` listening lines; `Err` with
    /// the exit status and stderr when it exits first.
    pub fn spawn(mut cmd: Command, listeners: usize) -> Result<Proc, String> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn goe-charger");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let err = child.stderr.take().unwrap();
            let buf = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let mut b = buf.lock().unwrap();
                    b.push_str(&line);
                    b.push('\n');
                }
            });
        }
        let (tx, rx) = std::sync::mpsc::channel::<u16>();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some((_, port)) = line.rsplit_once("listening on http://127.0.0.1:")
                    && let Ok(port) = port.trim().parse::<u16>()
                {
                    let _ = tx.send(port);
                }
            }
        });
        let mut ports = Vec::new();
        let end = Instant::now() + Duration::from_secs(60);
        while ports.len() < listeners {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(p) => ports.push(p),
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        std::thread::sleep(Duration::from_millis(100));
                        return Err(format!(
                            "exited with {status}; stderr:\n{}",
                            stderr.lock().unwrap()
                        ));
                    }
                    if Instant::now() > end {
                        let _ = child.kill();
                        return Err("no listening line within 60 s".into());
                    }
                }
            }
        }
        Ok(Proc {
            child,
            ports,
            stderr,
        })
    }

    /// The first listener's port.
    pub fn port(&self) -> u16 {
        self.ports[0]
    }

    /// What it logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `kill -9` and reap (the lock on its data directory goes with it).
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The persisted values of `config.json` in `dir`.
pub fn stored(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("config.json")).expect("config.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("config.json is JSON");
    doc["values"].clone()
}
