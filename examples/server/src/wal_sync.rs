//! Durability, pipelined: the thread that fsyncs the WAL file after the writer's commits and
//! only then acknowledges their hits.
//!
//! The writer's connection commits with `synchronous=NORMAL` ([`crate::store::open_writer`]): a
//! commit returns once its WAL frames, commit marker included, are written to the file, before
//! they are on disk. A sync thread then calls `fdatasync` on the WAL file — what SQLite itself
//! does at the end of a commit at `synchronous=FULL` (`fdatasync` where the build has it, as on
//! Linux distributions; the bundled build calls `fsync`, which also writes the file's
//! timestamps) — and answers the hits of every commit that returned before that call began. So
//! a `200` still means "committed, WAL on disk", as with `synchronous=FULL`; what changes is who
//! waits for the disk: the writer goes on with the next transaction while the previous one is
//! being synced, instead of idling through every flush. (`fdatasync` also writes the file's
//! size when a commit made the file longer: the data could not be read back without it.)
//!
//! Why this is as safe as `synchronous=FULL`: WAL frames are appended in commit order and each
//! frame's checksum chains over all earlier frames of the log, so recovery after a crash or a
//! power cut keeps exactly the longest valid prefix of committed transactions. Every frame of
//! an acknowledged commit was written before the `fsync` that covered it started, so it is in
//! that prefix; frames written after it (not yet acknowledged) may be lost, never the earlier
//! ones. Checkpoints are unaffected: at `synchronous=NORMAL` SQLite still syncs the WAL before
//! copying it into the database and the database afterwards, and it only restarts the log once
//! everything in it is in the synced database.
//!
//! Several `fsync`s may be in flight at once ([`SYNC_THREADS`]), so a commit's `fsync` starts
//! at once instead of waiting for the previous one to finish. When every sync thread is busy,
//! the writer waits ([`Durability::wait_for_room`]) and the hits arriving meanwhile queue up into
//! one bigger next transaction.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::writer::Ack;

/// `fsync`s that may be in flight at once. A disk answers several concurrent `fsync`s in
/// about the time of one (the kernel merges their cache flushes), so a commit does not wait
/// for an earlier commit's `fsync` to finish before its own starts.
const SYNC_THREADS: usize = 4;

/// Answers for the requests waiting on one `fsync`.
type Answers = (Vec<oneshot::Sender<Ack>>, Ack);

/// Where the sync threads send their answers: to a task on the server's runtime, which wakes
/// the waiting requests from inside the runtime (one cross-thread wake-up per `fsync` instead
/// of one per hit), or — without a runtime, or once it is gone — straight to each request.
#[derive(Debug, Clone, Default)]
pub struct Deliver(Option<tokio::sync::mpsc::UnboundedSender<Answers>>);

impl Deliver {
    /// Answers through a task spawned on `runtime`.
    pub fn on(runtime: &tokio::runtime::Handle) -> Deliver {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Answers>();
        runtime.spawn(async move {
            while let Some(answers) = receiver.recv().await {
                answer(answers);
            }
        });
        Deliver(Some(sender))
    }

    fn send(&self, answers: Answers) {
        match &self.0 {
            Some(sender) => {
                if let Err(returned) = sender.send(answers) {
                    answer(returned.0);
                }
            }
            None => answer(answers),
        }
    }
}

fn answer((acks, result): Answers) {
    for ack in acks {
        let _ = ack.send(result.clone());
    }
}

/// The sync threads' handle.
#[derive(Debug)]
pub struct Durability {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when commits are handed over (or on stop).
    work: Condvar,
    /// Signalled when the sync thread has taken the pending commits.
    room: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Acknowledgements of committed hits whose `fsync` has not started yet.
    pending: Vec<oneshot::Sender<Ack>>,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Durability {
    /// Starts the threads that sync `db`'s WAL file (`<db>-wal`) and answer through `deliver`.
    pub fn start(db: &Path, deliver: &Deliver) -> Result<Durability, String> {
        let shared = Arc::new(Shared::default());
        let mut threads = Vec::with_capacity(SYNC_THREADS);
        for _ in 0..SYNC_THREADS {
            let mut wal = WalFile::new(wal_path(db));
            let thread = {
                let shared = shared.clone();
                let deliver = deliver.clone();
                std::thread::Builder::new()
                    .name("dtpixel-sync".into())
                    .spawn(move || run(&shared, &mut wal, &deliver))
            };
            match thread {
                Ok(thread) => threads.push(thread),
                Err(e) => {
                    Durability { shared, threads }.stop();
                    return Err(format!("cannot start the sync threads: {e}"));
                }
            }
        }
        Ok(Durability { shared, threads })
    }

    /// Waits while a committed transaction is still waiting for its `fsync` to start (all
    /// the sync threads are busy): the writer calls this before taking its next batch, so
    /// that the hits arriving meanwhile join that batch.
    pub fn wait_for_room(&self) {
        drop(self.room());
    }

    /// Hands over the acknowledgements of a transaction that has just committed; they are
    /// answered `Ok` once an `fsync` of the WAL that started after this call has returned.
    pub fn committed(&self, acks: impl IntoIterator<Item = oneshot::Sender<Ack>>) {
        self.room().pending.extend(acks);
        self.shared.work.notify_one();
    }

    fn room(&self) -> MutexGuard<'_, State> {
        let mut state = self.shared.lock();
        while !state.pending.is_empty() {
            state = self
                .shared
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state
    }

    /// Syncs and answers everything handed over, then stops the thread.
    pub fn stop(self) {
        self.shared.lock().stopping = true;
        self.shared.work.notify_all();
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

fn run(shared: &Shared, wal: &mut WalFile, deliver: &Deliver) {
    loop {
        let mut state = shared.lock();
        while state.pending.is_empty() && !state.stopping {
            state = shared
                .work
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.pending.is_empty() {
            return;
        }
        let acks = std::mem::take(&mut state.pending);
        drop(state);
        shared.room.notify_one();
        let result = wal.sync().map_err(|e| {
            let message = format!("could not record the hit: syncing the WAL failed: {e}");
            eprintln!("dtpixel: {message}");
            message
        });
        deliver.send((acks, result));
    }
}

/// `<db>-wal`, the file SQLite writes the log to.
fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// The WAL file, opened once and reopened if SQLite ever replaced it.
#[derive(Debug)]
struct WalFile {
    path: PathBuf,
    file: Option<(File, FileId)>,
}

/// What tells two files apart (device and inode on Unix).
type FileId = (u64, u64);

impl WalFile {
    fn new(path: PathBuf) -> WalFile {
        WalFile { path, file: None }
    }

    /// `fdatasync`s the WAL file. Called only after a commit returned, so the file exists; it is
    /// opened (and its directory synced, so its entry is durable too) the first time, and again
    /// whenever the path no longer names the file held open.
    fn sync(&mut self) -> std::io::Result<()> {
        let current = file_id(&std::fs::metadata(&self.path)?);
        let reopen = match &self.file {
            Some((_, id)) => *id != current,
            None => true,
        };
        if reopen {
            let file = File::options().read(true).write(true).open(&self.path)?;
            let id = file_id(&file.metadata()?);
            sync_parent_dir(&self.path)?;
            self.file = Some((file, id));
        }
        match &self.file {
            Some((file, _)) => file.sync_data(),
            None => Ok(()),
        }
    }
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(meta: &std::fs::Metadata) -> FileId {
    (meta.len(), 0)
}

#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_path_is_the_database_path_with_wal() {
        assert_eq!(
            wal_path(Path::new("/data/hits.db")),
            PathBuf::from("/data/hits.db-wal")
        );
        assert_eq!(wal_path(Path::new("x")), PathBuf::from("x-wal"));
    }

    #[test]
    fn acknowledges_only_after_the_sync_and_follows_a_replaced_file() {
        let dir = std::env::temp_dir().join(format!("dtpixel-walsync-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("t.db");
        std::fs::write(wal_path(&db), b"frames").unwrap();
        let durability = Durability::start(&db, &Deliver::default()).unwrap();
        let (ack, acked) = oneshot::channel();
        durability.committed([ack]);
        assert_eq!(acked.blocking_recv().unwrap(), Ok(()));
        // SQLite deleted and recreated the log: the new file is synced.
        std::fs::remove_file(wal_path(&db)).unwrap();
        std::fs::write(wal_path(&db), b"new").unwrap();
        let (ack, acked) = oneshot::channel();
        durability.committed([ack]);
        assert_eq!(acked.blocking_recv().unwrap(), Ok(()));
        // No log at all: the hits are answered with an error, not acknowledged.
        std::fs::remove_file(wal_path(&db)).unwrap();
        let (ack, acked) = oneshot::channel();
        durability.committed([ack]);
        assert!(acked.blocking_recv().unwrap().unwrap_err().contains("WAL"));
        durability.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
