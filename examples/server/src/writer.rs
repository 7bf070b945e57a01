//! The write path: a bounded queue in front of one writer thread that owns the SQLite
//! connection and commits whatever has queued up in one transaction (group commit).
//!
//! "Acknowledged" means committed and on disk: each hit carries a one-shot channel, answered
//! only once the transaction holding the hit has committed *and* the WAL has been fsynced
//! ([`crate::wal_sync`] does the `fsync`, on its own thread, while the writer commits the next
//! batch), so a 200 is never sent for a hit that a `kill -9` or a power cut could lose.
//! Checkpoints run on their own thread too ([`crate::checkpoint`]). When the queue is full,
//! [`Writer::submit`] refuses at once and the caller answers 503.

use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dtpixel::{EventType, PixelId};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::checkpoint::Checkpointer;
use crate::roller::Roller;
use crate::visitor::{Salt, SharedSalt};
use crate::wal_sync::{Deliver, Durability};
use crate::{dates, random, store};

/// A hit waiting to be written. The IP and User-Agent are never stored, only the visitor key.
#[derive(Debug)]
pub struct PendingHit {
    /// Reception time, Unix milliseconds.
    pub received_ms: i64,
    /// The pixel id.
    pub pixel_id: PixelId,
    /// The event type.
    pub event_type: EventType,
    /// Whether the hit carried a cache-buster.
    pub cache_bust: bool,
    /// Why it is not counted, if so.
    pub filtered: Option<&'static str>,
    /// The raw query string.
    pub query: String,
    /// The visitor key, or what the writer computes it from.
    pub visitor: Visitor,
}

/// A hit's visitor key: computed by the request handler with the current salt, or — when the
/// hit's day has no salt yet (just after midnight UTC) — left to the writer, which makes the
/// new day's salt.
#[derive(Debug)]
pub enum Visitor {
    /// The key, computed with the salt of the hit's day.
    Key([u8; 16]),
    /// The client's IP address and User-Agent (hashed by the writer, never stored).
    Client {
        /// The client's IP address.
        ip: IpAddr,
        /// The User-Agent.
        user_agent: String,
    },
}

/// The answer to a submitted hit: `Ok` once committed and synced.
pub type Ack = Result<(), String>;

enum Message {
    Hit(PendingHit, oneshot::Sender<Ack>),
    Shutdown,
}

/// Why a hit was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: answer 503.
    Full,
    /// The writer has stopped.
    Closed,
}

/// The handle to the writer thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: SyncSender<Message>,
    salt: SharedSalt,
}

/// Joins the writer thread after a flush.
#[derive(Debug)]
pub struct WriterThread {
    queue: SyncSender<Message>,
    thread: JoinHandle<()>,
}

/// Limits of the queue and of one transaction.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Hits that may wait in the queue before new ones are refused.
    pub queue_capacity: usize,
    /// Hits written in one transaction at most.
    pub batch_max: usize,
}

/// Opens the database and starts the writer thread (and its sync and checkpoint threads);
/// answers reach the waiting requests through `deliver`.
pub fn start(
    db: &Path,
    limits: Limits,
    deliver: &Deliver,
) -> Result<(Writer, WriterThread), String> {
    let mut conn = store::open_writer(db)?;
    let salt = current_salt(&mut conn).map_err(|e| format!("database: {e}"))?;
    let salt = SharedSalt::new(salt);
    let durability = Durability::start(db, deliver)?;
    let checkpointer = Checkpointer::start(db)?;
    let roller = Roller::start(db)?;
    let (queue, receiver) = mpsc::sync_channel(limits.queue_capacity.max(1));
    let batch_max = limits.batch_max.max(1);
    let thread = {
        let salt = salt.clone();
        std::thread::Builder::new()
            .name("dtpixel-writer".into())
            .spawn(move || {
                let mut stages = Stages {
                    conn,
                    salt,
                    durability,
                    checkpointer,
                    roller,
                    days: DayCache::default(),
                };
                run(&mut stages, &receiver, batch_max);
                stages.close();
            })
            .map_err(|e| format!("cannot start the writer thread: {e}"))?
    };
    Ok((
        Writer {
            queue: queue.clone(),
            salt,
        },
        WriterThread { queue, thread },
    ))
}

impl Writer {
    /// Queues a hit; the receiver answers once it is committed and synced (or failed).
    pub fn submit(&self, hit: PendingHit) -> Result<oneshot::Receiver<Ack>, SubmitError> {
        let (ack, acked) = oneshot::channel();
        match self.queue.try_send(Message::Hit(hit, ack)) {
            Ok(()) => Ok(acked),
            Err(TrySendError::Full(_)) => Err(SubmitError::Full),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Closed),
        }
    }

    /// The current visitor salt.
    pub fn salt(&self) -> Arc<Salt> {
        self.salt.get()
    }
}

impl WriterThread {
    /// Writes everything still queued, checkpoints the WAL and stops the thread.
    pub fn shutdown(self) {
        // A blocking send: waits for room behind the hits still queued.
        let _ = self.queue.send(Message::Shutdown);
        let _ = self.thread.join();
    }
}

fn current_salt(conn: &mut Connection) -> rusqlite::Result<Salt> {
    let day = dates::day_of_ms(dates::now_ms());
    let fresh = random::bytes::<32>().map_err(|e| {
        rusqlite::Error::ToSqlConversionFailure(format!("no random salt: {e}").into())
    })?;
    let bytes = store::salt_for_day(conn, &day, fresh)?;
    Ok(Salt::new(day, bytes))
}

/// What the writer thread owns.
struct Stages {
    conn: Connection,
    salt: SharedSalt,
    durability: Durability,
    checkpointer: Checkpointer,
    roller: Roller,
    days: DayCache,
}

impl Stages {
    /// Answers everything committed, stops the helper threads (the roller once every hit is
    /// rolled up) and checkpoints the whole WAL.
    fn close(self) {
        self.durability.stop();
        self.roller.stop();
        self.checkpointer.stop();
        let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    }
}

type Batch = Vec<(PendingHit, oneshot::Sender<Ack>)>;

fn run(stages: &mut Stages, receiver: &mpsc::Receiver<Message>, batch_max: usize) {
    let mut stopping = false;
    let mut batch: Batch = Vec::with_capacity(batch_max);
    while !stopping {
        // Wake up at least once a minute so the salt rotates (and old ones are deleted)
        // even when no hits arrive.
        match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(Message::Hit(hit, ack)) => batch.push((hit, ack)),
            Ok(Message::Shutdown) => stopping = true,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stopping = true,
        }
        // While the previous commit waits for its fsync, more hits queue up: wait for the
        // sync thread to take it, then take everything queued (group commit).
        stages.durability.wait_for_room();
        while batch.len() < batch_max {
            match receiver.try_recv() {
                Ok(Message::Hit(hit, ack)) => batch.push((hit, ack)),
                Ok(Message::Shutdown) => stopping = true,
                Err(_) => break,
            }
        }
        if stopping {
            // Drain whatever is left (hits queued before the shutdown message).
            while let Ok(message) = receiver.try_recv() {
                if let Message::Hit(hit, ack) = message {
                    batch.push((hit, ack));
                }
            }
        }
        rotate_salt(stages);
        while !batch.is_empty() {
            let take = batch.len().min(batch_max);
            let result = write(stages, &batch[..take]);
            let acks = batch.drain(..take).map(|(_, ack)| ack);
            match result {
                // Acknowledged by the sync thread once the WAL is on disk.
                Ok(()) => stages.durability.committed(acks),
                Err(message) => {
                    for ack in acks {
                        let _ = ack.send(Err(message.clone()));
                    }
                }
            }
        }
    }
}

fn rotate_salt(stages: &mut Stages) {
    let today = dates::day_number(dates::now_ms());
    if today != stages.salt.get().days {
        let _gate = stages.checkpointer.gate();
        match current_salt(&mut stages.conn) {
            Ok(new) => stages.salt.set(new),
            Err(e) => eprintln!("dtpixel: cannot rotate the visitor salt: {e}"),
        }
    }
}

/// The `YYYY-MM-DD` of the last day seen, so a batch formats its day once.
#[derive(Default)]
struct DayCache {
    days: i64,
    text: String,
}

impl DayCache {
    fn day_of(&mut self, ms: i64) -> &str {
        let days = dates::day_number(ms);
        if self.text.is_empty() || days != self.days {
            self.days = days;
            self.text = dates::format_day(days);
        }
        &self.text
    }
}

/// Inserts `batch` in one transaction.
fn write(stages: &mut Stages, batch: &[(PendingHit, oneshot::Sender<Ack>)]) -> Result<(), String> {
    let salt = stages.salt.get();
    let days = &mut stages.days;
    let result = {
        let _gate = stages.checkpointer.gate();
        store::insert_batch(&mut stages.conn, |insert| {
            let mut id = [0u8; PixelId::LENGTH];
            for (hit, _) in batch {
                let visitor = match &hit.visitor {
                    Visitor::Key(key) => *key,
                    Visitor::Client { ip, user_agent } => {
                        salt.visitor_key(*ip, user_agent, hit.pixel_id)
                    }
                };
                insert(store::Row {
                    received_ms: hit.received_ms,
                    day: days.day_of(hit.received_ms),
                    pixel_id: hit.pixel_id.encode_lower(&mut id),
                    event_type: hit.event_type.as_str(),
                    cache_bust: hit.cache_bust,
                    visitor: &visitor,
                    filtered: hit.filtered,
                    query: &hit.query,
                })?;
            }
            Ok(())
        })
    };
    match result {
        Ok(()) => {
            stages.checkpointer.committed();
            Ok(())
        }
        Err(e) => {
            let message = format!("could not record the hit: {e}");
            eprintln!("dtpixel: {message}");
            Err(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(pixel_id: PixelId, visitor: Visitor) -> PendingHit {
        PendingHit {
            received_ms: dates::now_ms(),
            pixel_id,
            event_type: EventType::PAGE_LOAD,
            cache_bust: true,
            filtered: None,
            query: "cb=1".into(),
            visitor,
        }
    }

    #[test]
    fn hits_are_stored_with_their_visitor_key_and_counted_once_acknowledged() {
        let dir = std::env::temp_dir().join(format!("dtpixel-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("w.db");
        let limits = Limits {
            queue_capacity: 16,
            batch_max: 4,
        };
        let (writer, thread) = start(&db, limits, &Deliver::default()).unwrap();
        let salt = writer.salt();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let a = PixelId::from_bytes([1; 16]);
        let b = PixelId::from_bytes([2; 16]);
        // Keyed by the handler, and (as just after midnight) left to the writer.
        let keyed = Visitor::Key(salt.visitor_key(ip, "UA", a));
        let raw = || Visitor::Client {
            ip,
            user_agent: "UA".into(),
        };
        let acks: Vec<_> = [hit(a, keyed), hit(a, raw()), hit(b, raw())]
            .into_iter()
            .map(|h| writer.submit(h).unwrap())
            .collect();
        for ack in acks {
            assert_eq!(ack.blocking_recv().unwrap(), Ok(()));
        }
        thread.shutdown();

        let conn = store::open_ro(&db).unwrap();
        let keys: Vec<(String, Vec<u8>, i64)> = conn
            .prepare("SELECT pixel_id, visitor, hits FROM visitor_days ORDER BY pixel_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // The same person on pixel a, whoever computed the key: one visitor with two hits.
        assert_eq!(
            keys,
            [
                (a.to_string(), salt.visitor_key(ip, "UA", a).to_vec(), 2),
                (b.to_string(), salt.visitor_key(ip, "UA", b).to_vec(), 1),
            ]
        );
        let hits: i64 = conn
            .query_row("SELECT COUNT(*) FROM hits", [], |r| r.get(0))
            .unwrap();
        assert_eq!(hits, 3);
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
