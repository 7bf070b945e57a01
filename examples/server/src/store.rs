//! The SQLite database: schema, the writer's batch inserts, salts, creators and the report
//! queries. WAL journal; a committed transaction is synced before anyone is told about it
//! (`synchronous=FULL`, or the collector's own `fsync`, see [`open_writer`]), so it survives a
//! killed process (and a power cut).
//!
//! `hits` holds every hit, appended in order (its pages fill one after the other). The reports
//! count from `visitor_days`, one row per pixel, event type, UTC day and visitor key with its
//! number of counted hits, plus the hits not rolled up into it yet: `rollup.last_hit` is the
//! last hit it includes. Both live in a second file beside the database, `{db}-visitors`
//! ([`visitors_path`]), attached to the report connections as `agg`. A thread of its own
//! ([`crate::roller`]) rolls the newer hits up about once a second, in one sorted
//! `INSERT … SELECT … GROUP BY` ([`roll_up`]), rather than the writer updating `visitor_days`
//! with every hit: visitor keys are random, so per-hit updates dirtied a random page for nearly
//! every new visitor in every commit (most of the WAL's bytes, and of each `fsync`); rolled up
//! in bulk, each page is written once per roll-up, and in its own file the roll-up's write lock
//! never holds the hits' commits.
//!
//! `visitor_days` is derived data: a roll-up lost in a crash is redone from `hits`, and a hit is
//! durable once its row is. So databases from older versions (an index over every counted hit,
//! `hits_counted`, or `visitor_days` kept in the database itself) are upgraded by dropping
//! those and rebuilding the counts from `hits` ([`open_rw`], [`open_writer`]); the counts are
//! exactly those of an index over every counted hit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

/// How long a connection waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pixels (
    pixel_id   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS hits (
    id          INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    day         TEXT NOT NULL,
    pixel_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    cache_bust  INTEGER NOT NULL,
    visitor     BLOB NOT NULL,
    filtered    TEXT,
    query       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hits_filtered
    ON hits (pixel_id, filtered, day) WHERE filtered IS NOT NULL;
CREATE TABLE IF NOT EXISTS salts (
    day  TEXT PRIMARY KEY,
    salt BLOB NOT NULL
);
";

/// The schema of the visitors file ([`visitors_path`]).
const VISITORS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS visitor_days (
    pixel_id   TEXT NOT NULL,
    event_type TEXT NOT NULL,
    day        TEXT NOT NULL,
    visitor    BLOB NOT NULL,
    hits       INTEGER NOT NULL,
    PRIMARY KEY (pixel_id, event_type, day, visitor)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup (
    id       INTEGER PRIMARY KEY CHECK (id = 0),
    last_hit INTEGER NOT NULL
);
";

/// The file beside the database `db` that holds the per-day visitor counts: `{db}-visitors`
/// (derived from `hits`; deleting it only makes the collector count again from the start).
pub fn visitors_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-visitors");
    PathBuf::from(name)
}

/// Opens (creating when missing) the database for writing, in WAL mode, with the schema;
/// every commit is synced by SQLite (`synchronous=FULL`).
pub fn open_rw(path: &Path) -> Result<Connection, String> {
    open_wal(path, "PRAGMA synchronous=FULL;")
}

/// Opens the collector's write connection: WAL mode with the schema, like [`open_rw`], but
/// commits return once the WAL frames are written, *without* an fsync (`synchronous=NORMAL`),
/// and SQLite never checkpoints on its own (`wal_autocheckpoint=0`). The caller must make each
/// commit durable before telling anyone about it — [`crate::wal_sync`] fsyncs the WAL file after
/// the commit and only then are the hits acknowledged — and checkpoint from another connection
/// ([`crate::checkpoint`]). Checkpoints still sync the WAL before copying it and the database
/// after (SQLite does so at `synchronous=NORMAL`).
pub fn open_writer(path: &Path) -> Result<Connection, String> {
    open_wal(
        path,
        "PRAGMA synchronous=NORMAL;
         PRAGMA wal_autocheckpoint=0;
         PRAGMA journal_size_limit=134217728;
         PRAGMA cache_size=-65536;",
    )
}

/// A second connection to the collector's database, for checkpoints only.
pub fn open_checkpointer(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path)
        .map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| format!("database {}: {e}", path.display()))?;
    Ok(conn)
}

/// Opens (creating when missing) the SQLite file `path` in WAL mode, with the busy timeout.
fn connect_wal(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path)
        .map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
    let err = |e: rusqlite::Error| format!("database {}: {e}", path.display());
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!(
            "database {}: cannot switch to WAL (journal mode is {mode})",
            path.display()
        ));
    }
    Ok(conn)
}

/// Opens `path` in WAL mode, runs `pragmas`, then creates the schema where missing.
fn open_wal(path: &Path, pragmas: &str) -> Result<Connection, String> {
    let conn = connect_wal(path)?;
    let err = |e: rusqlite::Error| format!("database {}: {e}", path.display());
    conn.execute_batch(pragmas).map_err(err)?;
    conn.execute_batch(SCHEMA).map_err(err)?;
    // The visitors file first (a new one counts from the first hit), then the older forms of
    // the counts go: a crash in between only repeats the upgrade.
    drop(open_visitors(path)?);
    upgrade(&conn).map_err(err)?;
    Ok(conn)
}

/// Drops what older versions kept in the database itself for the counts (the `hits_counted`
/// index, `visitor_days` and its `rollup` mark): the visitors file rebuilds them from `hits`.
fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    if !legacy(conn)? {
        return Ok(());
    }
    eprintln!(
        "dtpixel: upgrading the database (per-day visitor counts rebuilt from the recorded hits)"
    );
    conn.execute_batch(
        "DROP INDEX IF EXISTS hits_counted;
         DROP TABLE IF EXISTS visitor_days;
         DROP TABLE IF EXISTS rollup;",
    )
}

/// Whether the database still has an older version's form of the counts.
fn legacy(conn: &Connection) -> rusqlite::Result<bool> {
    Ok(has(conn, "index", "hits_counted")?
        || has(conn, "table", "visitor_days")?
        || has(conn, "table", "rollup")?)
}

/// Opens (creating when missing) the visitors file of the database `db`, in WAL mode, with
/// `db` attached as `hits_db`: the roll-up's connection ([`roll_up`]). Its commits are not
/// synced (`synchronous=NORMAL`): what a crash loses is rolled up again.
pub fn open_visitors(db: &Path) -> Result<Connection, String> {
    let path = visitors_path(db);
    let conn = connect_wal(&path)?;
    let err = |e: rusqlite::Error| format!("database {}: {e}", path.display());
    conn.execute_batch("PRAGMA synchronous=NORMAL;")
        .map_err(err)?;
    conn.execute_batch(VISITORS_SCHEMA).map_err(err)?;
    // No mark: nothing is rolled up (and whatever is there did not come from a roll-up).
    let fresh = conn
        .execute(
            "INSERT OR IGNORE INTO rollup (id, last_hit) VALUES (0, 0)",
            [],
        )
        .map_err(err)?;
    if fresh == 1 {
        conn.execute("DELETE FROM visitor_days", []).map_err(err)?;
    }
    conn.execute("ATTACH DATABASE ?1 AS hits_db", [db.to_string_lossy()])
        .map_err(err)?;
    Ok(conn)
}
/// Whether the schema has an object of `kind` (`table`, `index`) named `name`.
fn has(conn: &Connection, kind: &str, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2)",
        [kind, name],
        |row| row.get(0),
    )
}

/// Opens an existing database read-only (for the reports).
pub fn open_ro(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
    let err = |e: rusqlite::Error| format!("database {}: {e}", path.display());
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    let visitors = visitors_path(path);
    if has(&conn, "table", "hits").map_err(err)?
        && (legacy(&conn).map_err(err)? || !visitors.exists())
    {
        return Err(format!(
            "database {} was written by an older dtpixel: run `dtpixel serve --db {}` once to upgrade it",
            path.display(),
            path.display()
        ));
    }
    // Attached with the connection's own flags: read-only.
    conn.execute("ATTACH DATABASE ?1 AS agg", [visitors.to_string_lossy()])
        .map_err(err)?;
    Ok(conn)
}

/// One hit as stored (borrowed: the writer binds its fields without copying them).
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Reception time, Unix milliseconds.
    pub received_ms: i64,
    /// UTC day of reception, `YYYY-MM-DD`.
    pub day: &'a str,
    /// Canonical pixel id.
    pub pixel_id: &'a str,
    /// Event type name.
    pub event_type: &'a str,
    /// Whether the hit carried a cache-buster.
    pub cache_bust: bool,
    /// The visitor key.
    pub visitor: &'a [u8; 16],
    /// Why the hit is not counted (`bot`, `prefetch`, `head`), if so.
    pub filtered: Option<&'static str>,
    /// The raw query string.
    pub query: &'a str,
}

const INSERT_HIT: &str =
    "INSERT INTO hits (received_ms, day, pixel_id, event_type, cache_bust, visitor, filtered, query)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Inserts hits in one transaction (one commit: group commit). `rows` is called once and
/// passes each row to its argument, so rows can borrow short-lived buffers.
pub fn insert_batch(
    conn: &mut Connection,
    rows: impl FnOnce(&mut dyn FnMut(Row<'_>) -> rusqlite::Result<()>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut hit = tx.prepare_cached(INSERT_HIT)?;
        rows(&mut |r: Row<'_>| {
            hit.execute(params![
                r.received_ms,
                r.day,
                r.pixel_id,
                r.event_type,
                r.cache_bust,
                &r.visitor[..],
                r.filtered,
                r.query
            ])?;
            Ok(())
        })?;
    }
    tx.commit()
}

/// Hits rolled up into `visitor_days` by one [`roll_up`] at most, so that a roll-up after a
/// long backlog (a restart after a crash, an upgrade) is several short transactions instead of
/// one that holds the writer for long.
pub const ROLL_UP_MAX: i64 = 200_000;

/// Adds the counted hits after `rollup.last_hit` (at most [`ROLL_UP_MAX`]) to `visitor_days`,
/// in one transaction, and moves the mark; returns how many hits it covered (0: up to date).
/// `conn` is [`open_visitors`]'s: the transaction writes the visitors file and only reads the
/// database (a deferred transaction: no lock on the database, whose writer goes on committing).
pub fn roll_up(conn: &mut Connection) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
    let (last, newest): (i64, i64) = tx.query_row(
        "SELECT last_hit, (SELECT COALESCE(MAX(id), 0) FROM hits_db.hits) FROM main.rollup
         WHERE id = 0",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let upto = newest.min(last.saturating_add(ROLL_UP_MAX));
    if upto <= last {
        return Ok(0);
    }
    tx.prepare_cached(
        "INSERT INTO main.visitor_days (pixel_id, event_type, day, visitor, hits)
         SELECT pixel_id, event_type, day, visitor, COUNT(*) FROM hits_db.hits
         WHERE id > ?1 AND id <= ?2 AND filtered IS NULL
         GROUP BY pixel_id, event_type, day, visitor
         ON CONFLICT DO UPDATE SET hits = hits + excluded.hits",
    )?
    .execute([last, upto])?;
    tx.prepare_cached("UPDATE main.rollup SET last_hit = ?1 WHERE id = 0")?
        .execute([upto])?;
    tx.commit()?;
    Ok(upto - last)
}

/// The counted hits of a report: `visitor_days`, and the hits not rolled up into it yet, as
/// `(pixel_id, event_type, day, visitor, hits)` rows, for days `?1` to `?2` and pixel `?3`
/// (all when NULL), on an [`open_ro`] connection. The tail is whatever follows the mark read
/// with `visitor_days`, in the visitors file's snapshot: whichever of the two files the
/// statement reads first, no hit is counted twice or missed.
const COUNTED: &str = "WITH counted AS (
         SELECT pixel_id, event_type, day, visitor, hits FROM agg.visitor_days
         WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR pixel_id = ?3)
         UNION ALL
         SELECT pixel_id, event_type, day, visitor, 1 FROM main.hits
         WHERE id > (SELECT last_hit FROM agg.rollup WHERE id = 0) AND filtered IS NULL
           AND day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR pixel_id = ?3)
     )";

/// The salt of `day`, created (32 random bytes) when missing; every other day's salt is deleted,
/// so visitor keys cannot be linked across days.
pub fn salt_for_day(
    conn: &mut Connection,
    day: &str,
    fresh: [u8; 32],
) -> rusqlite::Result<[u8; 32]> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM salts WHERE day <> ?1", [day])?;
    let existing: Option<Vec<u8>> = tx
        .query_row("SELECT salt FROM salts WHERE day = ?1", [day], |row| {
            row.get(0)
        })
        .optional()?;
    let salt = match existing.and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok()) {
        Some(salt) => salt,
        None => {
            tx.execute(
                "INSERT OR REPLACE INTO salts (day, salt) VALUES (?1, ?2)",
                params![day, &fresh[..]],
            )?;
            fresh
        }
    };
    tx.commit()?;
    Ok(salt)
}

/// The days whose salts are stored (for tests and diagnostics).
#[cfg(test)]
pub fn salt_days(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT day FROM salts ORDER BY day")?;
    let days = stmt.query_map([], |row| row.get(0))?.collect();
    days
}

/// Stores a creator's name; false when the id already exists.
pub fn add_pixel(
    conn: &Connection,
    pixel_id: &str,
    name: &str,
    now_ms: i64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO pixels (pixel_id, name, created_ms) VALUES (?1, ?2, ?3)",
        params![pixel_id, name, now_ms],
    )?;
    Ok(n == 1)
}

/// Every named creator: `(pixel_id, name)`, oldest first.
pub fn pixels(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt =
        conn.prepare("SELECT pixel_id, name FROM pixels ORDER BY created_ms, pixel_id")?;
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect();
    rows
}

/// An inclusive range of UTC days, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRange {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
}

impl Default for DayRange {
    fn default() -> Self {
        DayRange {
            from: "0000-01-01".into(),
            to: "9999-12-31".into(),
        }
    }
}

/// Counted hits and distinct visitors per `(pixel_id, event_type)` in `range`.
pub type Counts = BTreeMap<(String, String), (u64, u64)>;

/// Counted (not filtered) hits and distinct visitors per pixel and event type.
pub fn counts(
    conn: &Connection,
    range: &DayRange,
    pixel: Option<&str>,
) -> rusqlite::Result<Counts> {
    counted_by(conn, "pixel_id, event_type", range, pixel)
}

/// Counted hits and distinct visitors in `range` (of `pixel`, or all), per `key`: two columns
/// of [`COUNTED`].
fn counted_by(
    conn: &Connection,
    key: &'static str,
    range: &DayRange,
    pixel: Option<&str>,
) -> rusqlite::Result<Counts> {
    let mut stmt = conn.prepare_cached(&format!(
        "{COUNTED} SELECT {key}, SUM(hits), COUNT(DISTINCT visitor) FROM counted GROUP BY {key}"
    ))?;
    let rows = stmt.query_map(params![range.from, range.to, pixel], |row| {
        Ok((
            (row.get::<_, String>(0)?, row.get::<_, String>(1)?),
            (row.get::<_, i64>(2)? as u64, row.get::<_, i64>(3)? as u64),
        ))
    })?;
    rows.collect()
}

/// Filtered hits per `(pixel_id, reason)` in `range`.
pub fn filtered(
    conn: &Connection,
    range: &DayRange,
    pixel: Option<&str>,
) -> rusqlite::Result<BTreeMap<(String, String), u64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT pixel_id, filtered, COUNT(*) FROM hits
         WHERE filtered IS NOT NULL AND day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR pixel_id = ?3)
         GROUP BY pixel_id, filtered",
    )?;
    let rows = stmt.query_map(params![range.from, range.to, pixel], |row| {
        Ok((
            (row.get::<_, String>(0)?, row.get::<_, String>(1)?),
            row.get::<_, i64>(2)? as u64,
        ))
    })?;
    rows.collect()
}

/// Counted hits and distinct visitors per `(day, event_type)` for one pixel.
pub fn daily(conn: &Connection, range: &DayRange, pixel: &str) -> rusqlite::Result<Counts> {
    counted_by(conn, "day, event_type", range, Some(pixel))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes one counted hit per `(pixel, visitor)` and one filtered hit, in one commit.
    fn write(conn: &mut Connection, hits: &[(&str, u8)]) {
        insert_batch(conn, |insert| {
            for &(pixel, visitor) in hits {
                for filtered in [None, Some("bot")] {
                    insert(Row {
                        received_ms: 0,
                        day: "2024-05-01",
                        pixel_id: pixel,
                        event_type: "page_load",
                        cache_bust: false,
                        visitor: &[visitor; 16],
                        filtered,
                        query: "",
                    })?;
                }
            }
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn reports_count_the_same_before_during_and_after_roll_ups() {
        let dir = std::env::temp_dir().join(format!("dtpixel-rollup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rollup.db");
        let _ = std::fs::remove_file(&path);
        let mut conn = open_writer(&path).unwrap();
        let mut visitors = open_visitors(&path).unwrap();
        let reader = open_ro(&path).unwrap();
        let all = DayRange::default();
        let expect = |conn: &Connection, a: (u64, u64), b: (u64, u64)| {
            let counts = counts(conn, &all, None).unwrap();
            let key = |p: &str| (p.to_string(), "page_load".to_string());
            assert_eq!(counts.get(&key("a")), Some(&a));
            assert_eq!(counts.get(&key("b")), Some(&b));
            let daily = daily(conn, &all, "a").unwrap();
            assert_eq!(
                daily.get(&("2024-05-01".into(), "page_load".into())),
                Some(&a)
            );
        };
        // Visitor 1 twice on pixel a, visitor 2 once on a and once on b.
        write(&mut conn, &[("a", 1), ("a", 2)]);
        write(&mut conn, &[("a", 1), ("b", 2)]);
        // Nothing rolled up yet: all from `hits`.
        expect(&reader, (3, 2), (1, 1));
        assert_eq!(roll_up(&mut visitors).unwrap(), 8);
        assert_eq!(roll_up(&mut visitors).unwrap(), 0);
        expect(&reader, (3, 2), (1, 1));
        // Visitor 1 again, after the roll-up: one visitor still, across both halves.
        write(&mut conn, &[("a", 1)]);
        expect(&reader, (4, 2), (1, 1));
        assert_eq!(roll_up(&mut visitors).unwrap(), 2);
        expect(&reader, (4, 2), (1, 1));
        drop((conn, visitors, reader));
        // A reopened database keeps its mark (nothing is rolled up twice).
        let _conn = open_writer(&path).unwrap();
        let mut visitors = open_visitors(&path).unwrap();
        assert_eq!(roll_up(&mut visitors).unwrap(), 0);
        expect(&open_ro(&path).unwrap(), (4, 2), (1, 1));
        // Without its visitors file, the database counts again from its hits.
        drop(visitors);
        std::fs::remove_file(visitors_path(&path)).unwrap();
        let mut visitors = open_visitors(&path).unwrap();
        expect(&open_ro(&path).unwrap(), (4, 2), (1, 1));
        assert_eq!(roll_up(&mut visitors).unwrap(), 10);
        expect(&open_ro(&path).unwrap(), (4, 2), (1, 1));
        drop(visitors);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn salts_rotate_and_old_ones_are_deleted() {
        let dir = std::env::temp_dir().join(format!("dtpixel-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("salts.db");
        let _ = std::fs::remove_file(&path);
        let mut conn = open_rw(&path).unwrap();
        let a = salt_for_day(&mut conn, "2024-01-01", [1; 32]).unwrap();
        assert_eq!(a, [1; 32]);
        // Same day: the stored salt, not the fresh one.
        assert_eq!(
            salt_for_day(&mut conn, "2024-01-01", [2; 32]).unwrap(),
            [1; 32]
        );
        let b = salt_for_day(&mut conn, "2024-01-02", [3; 32]).unwrap();
        assert_eq!(b, [3; 32]);
        assert_eq!(salt_days(&conn).unwrap(), ["2024-01-02"]);
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
