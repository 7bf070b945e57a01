//! WAL checkpoints off the commit path: a thread with its own connection copies the WAL into
//! the database while the writer goes on committing (SQLite's automatic checkpoints are off on
//! the writer's connection, see [`crate::store::open_writer`]; left on, they ran inside the
//! commit of whichever hit crossed the threshold and stalled every hit behind it — hundreds of
//! milliseconds once the database is large).
//!
//! A `PASSIVE` checkpoint never blocks the writer, but under steady load it never catches up
//! either: new frames arrive while it runs, so the log is never fully copied and SQLite cannot
//! start it over from the beginning. Once the log is over [`RESTART_FRAMES`], the thread
//! therefore takes the writer's gate (the writer holds it for each transaction) and copies the
//! few frames committed during its last pass; the writer's next transaction then restarts the
//! log at its start. The WAL stays bounded (about [`RESTART_FRAMES`] pages plus one pass, 64 MiB
//! with 4 KiB pages) and its file is overwritten in place rather than grown (cheaper to sync).
//! The writer waits only for that last, short pass: two flushes and the few pages committed
//! during the pass before, once per [`RESTART_FRAMES`] pages written.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::store;

/// Commits between two checkpoint passes.
const COMMITS_PER_PASS: u64 = 64;
/// Frames (pages) in the log above which it is restarted.
pub const RESTART_FRAMES: i64 = 16_384;
/// How long the thread waits for more commits before checkpointing what it has.
const IDLE: Duration = Duration::from_millis(500);

/// The checkpoint thread's handle.
#[derive(Debug)]
pub struct Checkpointer {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Held by the writer for each transaction and by the thread for a restarting pass.
    gate: Mutex<()>,
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    commits: u64,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Held while the writer runs a transaction.
pub type Gate<'a> = MutexGuard<'a, ()>;

impl Checkpointer {
    /// Opens a second connection to `db` and starts the thread.
    pub fn start(db: &Path) -> Result<Checkpointer, String> {
        Checkpointer::start_with(db, RESTART_FRAMES)
    }

    /// [`Checkpointer::start`], restarting the log above `restart_frames` pages.
    fn start_with(db: &Path, restart_frames: i64) -> Result<Checkpointer, String> {
        let conn = store::open_checkpointer(db)?;
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("dtpixel-checkpoint".into())
                .spawn(move || run(&shared, &conn, restart_frames))
                .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?
        };
        Ok(Checkpointer { shared, thread })
    }

    /// The writer's gate, held for the length of one transaction.
    pub fn gate(&self) -> Gate<'_> {
        self.shared
            .gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a commit; wakes the thread every [`COMMITS_PER_PASS`].
    pub fn committed(&self) {
        let mut state = self.shared.lock();
        state.commits += 1;
        if state.commits == COMMITS_PER_PASS {
            self.shared.wake.notify_one();
        }
    }

    /// Stops the thread (the writer checkpoints the rest itself when it closes).
    pub fn stop(self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_one();
        let _ = self.thread.join();
    }
}

fn run(shared: &Shared, conn: &Connection, restart_frames: i64) {
    loop {
        let mut state = shared.lock();
        while state.commits < COMMITS_PER_PASS && !state.stopping {
            let (next, timeout) = shared
                .wake
                .wait_timeout(state, IDLE)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if timeout.timed_out() && state.commits > 0 {
                break;
            }
        }
        if state.stopping {
            return;
        }
        state.commits = 0;
        drop(state);
        match passive(conn) {
            Ok(frames) if frames >= restart_frames => {
                // One more pass without the gate copies most of what was committed during the
                // first; then copy the rest while no transaction runs: the whole log is in the
                // database, and the writer's next transaction restarts it.
                if let Err(e) = passive(conn) {
                    eprintln!("dtpixel: checkpoint failed: {e}");
                }
                let _gate = shared.gate.lock().unwrap_or_else(PoisonError::into_inner);
                if let Err(e) = passive(conn) {
                    eprintln!("dtpixel: checkpoint failed: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("dtpixel: checkpoint failed: {e}"),
        }
    }
}

/// A `PASSIVE` checkpoint; returns the frames in the log.
fn passive(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::io::Read;

    #[test]
    fn the_wal_restarts_and_stays_bounded_while_commits_go_on() {
        let dir = std::env::temp_dir().join(format!("dtpixel-checkpoint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("c.db");
        let wal = dir.join("c.db-wal");
        let conn = store::open_writer(&db).unwrap();
        conn.execute_batch("CREATE TABLE blobs (b BLOB)").unwrap();
        let checkpointer = Checkpointer::start_with(&db, 64).unwrap();
        const COMMITS: usize = 2_000;
        let mut salts = BTreeSet::new();
        let mut largest = 0;
        for _ in 0..COMMITS {
            {
                let _gate = checkpointer.gate();
                // About 3 pages: a row and two overflow pages.
                conn.execute("INSERT INTO blobs VALUES (randomblob(8000))", [])
                    .unwrap();
            }
            checkpointer.committed();
            // The WAL header's salts change each time the log starts over.
            let mut header = [0u8; 32];
            std::fs::File::open(&wal)
                .unwrap()
                .read_exact(&mut header)
                .unwrap();
            salts.insert(header[16..24].to_vec());
            largest = largest.max(std::fs::metadata(&wal).unwrap().len());
            // A steady stream rather than a burst: the checkpoints run beside it.
            std::thread::sleep(Duration::from_micros(100));
        }
        checkpointer.stop();
        assert!(
            salts.len() >= 3,
            "the log started over {} times under steady commits",
            salts.len() - 1
        );
        // Never restarted, it would hold every commit: about 3 pages of 4 KiB each.
        let unbounded = (COMMITS * 3 * 4096) as u64;
        assert!(
            largest < unbounded / 2,
            "the WAL grew to {largest} bytes (everything: {unbounded})"
        );
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
