//! The roll-up thread: about once a second it adds the hits written meanwhile to the per-day
//! visitor counts ([`crate::store::roll_up`]), on its own connection to the visitors file, so
//! neither its work nor its write lock sits on the writer's commit path. The reports count the
//! hits it has not reached yet straight from `hits`, so they are current whatever its lag.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::store;

/// How often the hits written meanwhile are rolled up.
const EVERY: Duration = Duration::from_secs(1);

/// The roll-up thread's handle.
#[derive(Debug)]
pub struct Roller {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<()>,
}

impl Roller {
    /// Opens the visitors file of `db` (creating it) and starts the thread.
    pub fn start(db: &Path) -> Result<Roller, String> {
        let mut conn = store::open_visitors(db)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("dtpixel-rollup".into())
                .spawn(move || {
                    let (flag, wake) = &*stop;
                    loop {
                        let stopping = {
                            let guard = flag.lock().unwrap_or_else(PoisonError::into_inner);
                            let (guard, _) = wake
                                .wait_timeout_while(guard, EVERY, |stopping| !*stopping)
                                .unwrap_or_else(PoisonError::into_inner);
                            *guard
                        };
                        // A backlog (after a restart or an upgrade) is rolled up in bounded
                        // steps, one after the other; on stopping, everything.
                        loop {
                            match store::roll_up(&mut conn) {
                                Ok(n) if n >= store::ROLL_UP_MAX => continue,
                                Ok(_) => break,
                                Err(e) => {
                                    eprintln!("dtpixel: could not roll up the per-day visitor counts: {e}");
                                    break;
                                }
                            }
                        }
                        if stopping {
                            let _ = conn.execute_batch("PRAGMA main.wal_checkpoint(TRUNCATE);");
                            return;
                        }
                    }
                })
                .map_err(|e| format!("cannot start the roll-up thread: {e}"))?
        };
        Ok(Roller { stop, thread })
    }

    /// Rolls up every hit written so far, then stops the thread.
    pub fn stop(self) {
        let (flag, wake) = &*self.stop;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        let _ = self.thread.join();
    }
}
