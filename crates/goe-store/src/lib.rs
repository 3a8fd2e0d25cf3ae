//! Durable configuration storage for a virtual go-eCharger: its "flash".
//!
//! One JSON document per charger in its data directory, replaced atomically on
//! every save: write a temporary file in the same directory, `fsync` it, rename
//! it over `config.json`, then `fsync` the directory. After [`Store::save`]
//! returns, the new document survives a crash or `kill -9` at any moment; before
//! it returns, the old one is still intact. A document that cannot be read is an
//! error naming the file, never a silent reset.
//!
//! A data directory belongs to one process at a time: [`DirLock`] holds an
//! advisory lock on `goe-charger.lock` in it (with the holder's pid written
//! inside, so a second process can name it). The kernel releases the lock
//! when the process ends, even on `kill -9`, so a lock is never stale; the
//! file itself stays.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Name of the document inside the data directory.
pub const FILE_NAME: &str = "config.json";

/// Version of the document layout; bumped on incompatible changes.
pub const FORMAT: u64 = 1;

/// Name of the lock file inside a claimed data directory.
pub const LOCK_FILE: &str = "goe-charger.lock";

/// Prefix of temporary files, so leftovers of a crash can be recognised.
const TMP_PREFIX: &str = ".config.json.tmp";

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or listed.
    #[error("cannot use data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The document exists but could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The document is not a valid configuration (corrupt, truncated, or foreign).
    #[error(
        "configuration file {path} is corrupt: {reason}; fix or remove it (it is never reset automatically)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Another process holds the data directory.
    #[error(
        "data directory {dir} is in use by another goe-charger ({}); stop it or use another data directory",
        holder.map_or_else(|| "pid unknown".to_owned(), |p| format!("pid {p}"))
    )]
    Locked {
        /// The directory.
        dir: PathBuf,
        /// The pid written by the holder, when readable.
        holder: Option<u32>,
    },
    /// Writing the new document failed; the previous one is still in place.
    #[error("cannot write configuration file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// What a store holds: the charger's serial and its persisted key values.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Serial of the charger this data belongs to.
    pub serial: String,
    /// The firmware (`060.5`) that wrote it; `None` in documents written
    /// before firmware profiles existed (they hold the 2021 key table's values).
    pub firmware: Option<String>,
    /// Persisted keys and their values, as JSON.
    pub values: serde_json::Map<String, serde_json::Value>,
    /// What makes this charger a clone of a real unit (#17), opaque to the
    /// store: the capture and its base firmware; `None` for other chargers.
    pub clone: Option<serde_json::Value>,
}

/// The claim of one process on a data directory (see the crate docs):
/// released when dropped or when the process ends.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Claims `dir` (creating it if needed) for this process, or says which
    /// process holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock, StoreError> {
        let dir_err = |source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        };
        fs::create_dir_all(dir).map_err(dir_err)?;
        let path = dir.join(LOCK_FILE);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(dir_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse().ok());
                return Err(StoreError::Locked {
                    dir: dir.to_owned(),
                    holder,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(dir_err(e)),
        }
        if !same_file(&file, &path) {
            // The holder removed the directory (a failed fresh start, see
            // [`Claim`]) between our open and our lock: the file we locked
            // is gone, so the directory was not ours to claim at that moment.
            return Err(StoreError::Locked {
                dir: dir.to_owned(),
                holder: None,
            });
        }
        // best effort: the pid only makes a refusal's message better
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.sync_all());
        Ok(DirLock { _file: file })
    }
}

/// Whether the lock file at `path` is still the file `file` has open.
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// A data directory taken for a start that may still fail: it remembers
/// whether this process created the directory, and when it is dropped
/// without [`Claim::keep`] (the open failed) it removes a directory it
/// created, while still holding the lock, so a start that never served
/// leaves nothing behind. A directory this process did not create (it
/// existed, or another process created it first) is never removed, and a
/// claim that lost the lock ([`StoreError::Locked`]) is never made at all:
/// a failed start cannot touch another process's live directory.
#[derive(Debug)]
pub struct Claim {
    dir: PathBuf,
    created: bool,
    /// `None` for a directory inside one the caller already holds, and
    /// after [`Claim::keep`].
    lock: Option<DirLock>,
    kept: bool,
}

impl Claim {
    /// Creates `dir` if it is missing (remembering that this call created
    /// it) and takes its [`DirLock`].
    pub fn acquire(dir: &Path) -> Result<Claim, StoreError> {
        let created = create_leaf(dir)?;
        let lock = DirLock::acquire(dir)?;
        Ok(Claim {
            dir: dir.to_owned(),
            created,
            lock: Some(lock),
            kept: false,
        })
    }

    /// [`Claim::acquire`] without a lock of its own, for a directory inside
    /// one the caller already holds a [`DirLock`] on (a fleet's charger).
    pub fn inside_claimed(dir: &Path) -> Result<Claim, StoreError> {
        let created = create_leaf(dir)?;
        Ok(Claim {
            dir: dir.to_owned(),
            created,
            lock: None,
            kept: false,
        })
    }

    /// The open succeeded: the directory stays, and the lock (if this
    /// claim took one) is handed to the caller to hold while it serves.
    pub fn keep(mut self) -> Option<DirLock> {
        self.kept = true;
        self.lock.take()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.kept && self.created {
            // `self.lock` is released only after this (fields drop after
            // `drop`), so nobody else can have claimed the directory.
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Creates `dir` (and its missing parents); `true` when this call created
/// `dir` itself, `false` when it existed already.
fn create_leaf(dir: &Path) -> Result<bool, StoreError> {
    let dir_err = |source| StoreError::Dir {
        path: dir.to_owned(),
        source,
    };
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(dir_err)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(false),
        Err(e) => Err(dir_err(e)),
    }
}

/// A charger's durable store in one directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    path: PathBuf,
    /// This process's claim on `dir` (`None` when a fleet claims its root).
    _lock: Option<DirLock>,
}

impl Store {
    /// Claims `dir` for this process ([`DirLock`]), opens (creating if
    /// needed) the store in it and reads its document, `None` when the
    /// charger has never saved anything.
    pub fn open(dir: &Path) -> Result<(Store, Option<Document>), StoreError> {
        let lock = DirLock::acquire(dir)?;
        Store::open_with(dir, Some(lock))
    }

    /// [`Store::open`] without a claim of its own: for a directory inside
    /// one the caller already holds a [`DirLock`] on (a fleet's root).
    pub fn open_claimed(dir: &Path) -> Result<(Store, Option<Document>), StoreError> {
        Store::open_with(dir, None)
    }

    fn open_with(
        dir: &Path,
        lock: Option<DirLock>,
    ) -> Result<(Store, Option<Document>), StoreError> {
        fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        let store = Store {
            dir: dir.to_owned(),
            path: dir.join(FILE_NAME),
            _lock: lock,
        };
        store.remove_stale_temp_files()?;
        let doc = store.read()?;
        Ok((store, doc))
    }

    /// Path of the document (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn remove_stale_temp_files(&self) -> Result<(), StoreError> {
        let entries = fs::read_dir(&self.dir).map_err(|source| StoreError::Dir {
            path: self.dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                // A crash between create and rename leaves these; they were never acknowledged.
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    fn read(&self) -> Result<Option<Document>, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let json: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not JSON ({e})")))?;
        let format = json.get("format").and_then(serde_json::Value::as_u64);
        if format != Some(FORMAT) {
            return Err(corrupt(format!(
                "unknown format {:?}, expected {FORMAT}",
                json.get("format")
            )));
        }
        let serial = json
            .get("serial")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| corrupt("no serial".into()))?
            .to_owned();
        let values = json
            .get("values")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| corrupt("no values object".into()))?
            .clone();
        let firmware = json
            .get("firmware")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let clone = json.get("clone").cloned();
        Ok(Some(Document {
            serial,
            firmware,
            values,
            clone,
        }))
    }

    /// Replaces the document atomically and durably. When this returns `Ok`,
    /// the document is on disk; on `Err`, the previous document is unchanged.
    /// A directory fsync failing after the rename is retried once, then
    /// logged and not an `Err`: the disk holds the new document by then, and
    /// an `Err` would make the caller undo in memory what a restart reads.
    pub fn save(&mut self, doc: &Document) -> Result<(), StoreError> {
        if let Some(source) = injected_fault() {
            return Err(StoreError::Write {
                path: self.path.clone(),
                source,
            });
        }
        let mut body = serde_json::json!({
            "format": FORMAT,
            "serial": doc.serial,
        });
        if let Some(firmware) = &doc.firmware {
            body["firmware"] = serde_json::Value::from(firmware.as_str());
        }
        body["values"] = serde_json::Value::Object(doc.values.clone());
        if let Some(clone) = &doc.clone {
            body["clone"] = clone.clone();
        }
        let bytes = serde_json::to_vec_pretty(&body).expect("JSON values always serialize");
        let write_err = |source| StoreError::Write {
            path: self.path.clone(),
            source,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&self.dir)
            .map_err(write_err)?;
        tmp.write_all(&bytes).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(&self.path).map_err(|e| write_err(e.error))?;
        // The rename is done: the new document, fsynced, is what the
        // directory holds now and what a restart reads. Reporting "not saved"
        // from here on would let the caller keep the old value in memory
        // while the disk has the new one, so a failed directory fsync is
        // retried once and then only logged (it matters on power loss alone,
        // where the rename may be undone and the old, intact document read).
        if let Err(first) = sync_dir(&self.dir)
            && let Err(e) = sync_dir(&self.dir)
        {
            tracing::warn!(
                "saved {} but could not fsync its directory ({first}; retry: {e}); \
                     after a power loss the previous configuration may come back",
                self.path.display()
            );
        }
        Ok(())
    }
}

/// `fsync` of a directory, so a rename in it is durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(test)]
    if tests::DIR_SYNC_FAILURES.with(|n| {
        let left = n.get();
        n.set(left.saturating_sub(1));
        left > 0
    }) {
        return Err(io::Error::other("injected directory fsync failure"));
    }
    File::open(dir).and_then(|d| d.sync_all())
}

/// Test hook for machines where a test cannot mount a tiny file system:
/// while the file named by this variable exists, every save fails as on a
/// full disk. Unset in normal use (the integration tests of a full disk use a
/// real tmpfs when they can and say which one they used).
pub const FAULT_FILE_ENV: &str = "GOE_STORE_FAULT_FILE";

fn injected_fault() -> Option<io::Error> {
    // read once: every save passes here, and the variable is given at start
    static FAULT_FILE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let path = FAULT_FILE
        .get_or_init(|| std::env::var_os(FAULT_FILE_ENV).map(PathBuf::from))
        .as_ref()?;
    path.exists().then(|| {
        io::Error::new(
            io::ErrorKind::StorageFull,
            format!("No space left on device (injected: {FAULT_FILE_ENV} exists)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// How many directory fsyncs of this test thread fail next.
        pub(super) static DIR_SYNC_FAILURES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    #[test]
    fn failed_dir_fsync_after_the_rename_is_not_a_refused_save() {
        for failures in [1, 2] {
            let dir = tempfile::tempdir().unwrap();
            let (mut s, _) = Store::open(dir.path()).unwrap();
            s.save(&doc(1)).unwrap();
            DIR_SYNC_FAILURES.with(|n| n.set(failures));
            let saved = s.save(&doc(2));
            DIR_SYNC_FAILURES.with(|n| n.set(0));
            drop(s);
            let (_, on_disk) = Store::open(dir.path()).unwrap();
            // what the caller is told must match what a restart reads
            match saved {
                Ok(()) => assert_eq!(on_disk, Some(doc(2)), "{failures} failures"),
                Err(e) => panic!("refused ({e}) but disk holds {on_disk:?}"),
            }
        }
    }

    #[test]
    fn claim_removes_only_a_directory_it_created_and_locked() {
        let root = tempfile::tempdir().unwrap();
        // created by us, open failed: removed
        let fresh = root.path().join("fresh");
        drop(Claim::acquire(&fresh).unwrap());
        assert!(!fresh.exists());
        // existed before: kept
        let old = root.path().join("old");
        fs::create_dir(&old).unwrap();
        drop(Claim::acquire(&old).unwrap());
        assert!(old.is_dir());
        // kept on success, lock handed over
        let ok = root.path().join("ok");
        let lock = Claim::acquire(&ok).unwrap().keep();
        assert!(lock.is_some() && ok.is_dir());
        // inside a claimed directory: no lock, same removal rule
        let child = ok.join("child");
        drop(Claim::inside_claimed(&child).unwrap());
        assert!(!child.exists() && ok.is_dir());
    }

    #[test]
    fn the_loser_of_a_claim_leaves_the_winners_directory_intact() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("new");
        // the winner created and locked it and has written its data
        let winner = Claim::acquire(&dir).unwrap();
        fs::write(dir.join(FILE_NAME), "{}").unwrap();
        let loser = Claim::acquire(&dir);
        assert!(matches!(loser, Err(StoreError::Locked { .. })), "{loser:?}");
        drop(loser);
        assert!(dir.join(FILE_NAME).exists() && dir.join(LOCK_FILE).exists());
        let _kept = winner.keep();
        assert!(dir.join(FILE_NAME).exists());
    }

    fn doc(n: i64) -> Document {
        let mut values = serde_json::Map::new();
        values.insert("amp".into(), n.into());
        Document {
            serial: "012345".into(),
            firmware: Some("060.5".into()),
            values,
            clone: None,
        }
    }

    #[test]
    fn empty_dir_has_no_document() {
        let dir = tempfile::tempdir().unwrap();
        let (_, d) = Store::open(dir.path()).unwrap();
        assert!(d.is_none());
    }

    #[test]
    fn save_then_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = Store::open(dir.path()).unwrap();
        s.save(&doc(10)).unwrap();
        s.save(&doc(12)).unwrap();
        drop(s);
        let (_, d) = Store::open(dir.path()).unwrap();
        assert_eq!(d, Some(doc(12)));
    }

    #[test]
    fn corrupt_file_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), b"{\"format\":1,\"ser").unwrap();
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILE_NAME) && err.contains("corrupt"), "{err}");
        // and the file is left alone
        assert_eq!(
            fs::read(dir.path().join(FILE_NAME)).unwrap(),
            b"{\"format\":1,\"ser"
        );
    }

    #[test]
    fn foreign_json_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), b"[1,2,3]").unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_second_claim_is_refused_naming_dir_and_pid() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        Store::open(dir.path()).expect("free again once dropped");
    }

    #[test]
    fn stale_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(format!("{TMP_PREFIX}abc"));
        fs::write(&stale, b"half").unwrap();
        Store::open(dir.path()).unwrap();
        assert!(!stale.exists());
    }
}
