//! The write path: a bounded queue in front of one writer thread that owns the SQLite
//! connection and commits whatever has queued up in one transaction (group commit).
//!
//! "Acknowledged" means committed: each hit carries a one-shot channel, and the writer answers
//! it only after the transaction holding the hit has committed (WAL, `synchronous=FULL`), so a
//! 200 is never sent for a hit that a `kill -9` could lose. When the queue is full,
//! [`Writer::submit`] refuses at once and the caller answers 503.

use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use dtpixel::{EventType, PixelId};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::visitor::Salt;
use crate::{dates, random, store};

/// A hit waiting to be written; the visitor key is computed by the writer, which holds the
/// day's salt, so the IP and User-Agent are never stored.
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
    /// The client's IP address (hashed, never stored).
    pub ip: IpAddr,
    /// The User-Agent (hashed, never stored).
    pub user_agent: String,
}

/// The answer to a submitted hit: `Ok` once committed.
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

/// Opens the database and starts the writer thread.
pub fn start(db: &Path, limits: Limits) -> Result<(Writer, WriterThread), String> {
    let mut conn = store::open_rw(db)?;
    let mut salt = current_salt(&mut conn).map_err(|e| format!("database: {e}"))?;
    let (queue, receiver) = mpsc::sync_channel(limits.queue_capacity.max(1));
    let batch_max = limits.batch_max.max(1);
    let thread = std::thread::Builder::new()
        .name("dtpixel-writer".into())
        .spawn(move || run(conn, &mut salt, receiver, batch_max))
        .map_err(|e| format!("cannot start the writer thread: {e}"))?;
    Ok((
        Writer {
            queue: queue.clone(),
        },
        WriterThread { queue, thread },
    ))
}

impl Writer {
    /// Queues a hit; the receiver answers once it is committed (or failed).
    pub fn submit(&self, hit: PendingHit) -> Result<oneshot::Receiver<Ack>, SubmitError> {
        let (ack, acked) = oneshot::channel();
        match self.queue.try_send(Message::Hit(hit, ack)) {
            Ok(()) => Ok(acked),
            Err(TrySendError::Full(_)) => Err(SubmitError::Full),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Closed),
        }
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

fn run(mut conn: Connection, salt: &mut Salt, receiver: mpsc::Receiver<Message>, batch_max: usize) {
    let mut stopping = false;
    let mut batch: Vec<(PendingHit, oneshot::Sender<Ack>)> = Vec::with_capacity(batch_max);
    while !stopping {
        // Wake up at least once a minute so the salt rotates (and old ones are deleted)
        // even when no hits arrive.
        match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(Message::Hit(hit, ack)) => batch.push((hit, ack)),
            Ok(Message::Shutdown) => stopping = true,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stopping = true,
        }
        // Group commit: take everything that queued up while the last commit ran.
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
        rotate_salt(&mut conn, salt);
        while !batch.is_empty() {
            let take = batch.len().min(batch_max);
            let chunk: Vec<_> = batch.drain(..take).collect();
            write(&mut conn, salt, chunk);
        }
    }
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
}

fn rotate_salt(conn: &mut Connection, salt: &mut Salt) {
    let today = dates::day_of_ms(dates::now_ms());
    if today != salt.day {
        match current_salt(conn) {
            Ok(new) => *salt = new,
            Err(e) => eprintln!("dtpixel: cannot rotate the visitor salt: {e}"),
        }
    }
}

fn write(conn: &mut Connection, salt: &Salt, batch: Vec<(PendingHit, oneshot::Sender<Ack>)>) {
    if batch.is_empty() {
        return;
    }
    let rows: Vec<store::Row> = batch
        .iter()
        .map(|(hit, _)| store::Row {
            received_ms: hit.received_ms,
            day: dates::day_of_ms(hit.received_ms),
            pixel_id: hit.pixel_id.to_string(),
            event_type: hit.event_type.as_str().to_owned(),
            cache_bust: hit.cache_bust,
            visitor: salt.visitor_key(hit.ip, &hit.user_agent, hit.pixel_id),
            filtered: hit.filtered,
            query: hit.query.clone(),
        })
        .collect();
    let result =
        store::insert_batch(conn, &rows).map_err(|e| format!("could not record the hit: {e}"));
    if let Err(e) = &result {
        eprintln!("dtpixel: {e}");
    }
    // Only now, after the commit returned, are the hits acknowledged.
    for (_, ack) in batch {
        let _ = ack.send(result.clone());
    }
}
