//! A `goe-charger --fleet FILE` process for the tests that need a whole
//! fleet (the dashboard's): its chargers' serials and ports from the lines
//! it prints, its stderr in a file, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A fleet process started from a fleet file on a manual clock.
pub struct Fleet {
    /// The process.
    pub child: Child,
    /// (serial, port) per charger, in serial order.
    pub chargers: Vec<(String, u16)>,
    stderr: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Fleet {
    /// `fleet_file` (TOML) in a fresh directory, started on a manual clock
    /// with a fixed start and seed.
    pub fn start(fleet_file: &str) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fleet.toml");
        std::fs::write(&file, fleet_file).unwrap();
        let stderr = dir.path().join("stderr.txt");
        let mut child = Command::new(super::BIN)
            .args(["--listen", "127.0.0.1:0", "--clock", "manual"])
            .args(["--start", "2024-06-03T10:00:00Z", "--seed", "7"])
            .arg("--fleet")
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let head = lines.next().unwrap().unwrap();
        let count: usize = head
            .strip_prefix("goe-charger fleet of ")
            .and_then(|r| r.strip_suffix(" chargers"))
            .unwrap_or_else(|| panic!("{head}"))
            .parse()
            .unwrap();
        let chargers = (0..count)
            .map(|_| {
                let line = lines.next().unwrap().unwrap();
                let mut words = line.split_whitespace();
                assert_eq!(words.next(), Some("goe-charger"));
                let serial = words.next().unwrap().to_owned();
                let port = words
                    .last()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                (serial, port)
            })
            .collect();
        Fleet {
            child,
            chargers,
            stderr,
            _dir: dir,
        }
    }

    /// What the process printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}
