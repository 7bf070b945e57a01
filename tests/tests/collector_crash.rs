//! Crash safety (issue 4): hits stream in from several clients, the collector is killed with
//! SIGKILL in the middle, and after a restart the report holds every hit that had been
//! answered 200. Each hit uses its own pixel id, so the report shows each one individually.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dtpixel_tests::collector::{http_request, Collector, TempDir, BROWSER_UA};

const CLIENTS: usize = 8;
/// Acknowledged hits to wait for before the kill.
const BEFORE_KILL: usize = 300;

fn pixel_id(client: usize, n: usize) -> String {
    format!("{client:08x}-0000-4000-8000-{n:012x}")
}

#[test]
fn every_acknowledged_hit_survives_kill_9() {
    let dir = TempDir::new("dtpixel-crash");
    let db = dir.path().join("crash.db");
    let mut collector = Collector::start_with_db(&db, &[]);
    let addr = collector.addr;
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let attempted = Arc::new(Mutex::new(BTreeSet::new()));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (acked, attempted, acked_count, stop) = (
                acked.clone(),
                attempted.clone(),
                acked_count.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = pixel_id(client, n);
                    attempted.lock().unwrap().insert(id.clone());
                    let target = format!("/pixel/{id}/event.gif?event_type=page_load");
                    match http_request(addr, "GET", &target, &[("User-Agent", BROWSER_UA)]) {
                        Ok(r) if r.status == 200 => {
                            acked.lock().unwrap().insert(id);
                            acked_count.fetch_add(1, Ordering::Relaxed);
                        }
                        // The server is gone (or refused): this hit is not acknowledged.
                        _ => break,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked_count.load(Ordering::Relaxed) < BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "too slow: {}",
            collector.stderr()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // SIGKILL while the clients are still sending.
    collector.kill();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    assert!(acked.len() >= BEFORE_KILL);

    let restarted = Collector::start_with_db(&db, &[]);
    let report = restarted.report("");
    let recorded: BTreeMap<String, u64> = report["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["pixel_id"].as_str().unwrap().to_string(),
                p["events"]["page_load"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|id| recorded.get(*id) != Some(&1))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged hits lost: {lost:?}",
        lost.len()
    );
    // Nothing invented: only hits that were sent, each once. Hits committed whose 200 the kill
    // cut off may be recorded too (the client never heard back).
    for (id, count) in &recorded {
        assert!(attempted.contains(id), "{id} was never sent");
        assert_eq!(*count, 1, "{id}");
    }
    eprintln!(
        "crash test: {} sent, {} acknowledged, {} recorded after kill -9",
        attempted.len(),
        acked.len(),
        recorded.len()
    );
}
