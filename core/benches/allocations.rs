//! Heap allocations per operation, counted with a counting global allocator: ours against the
//! baselines, for the realistic parse and build and the mixed batch. A measurement for
//! BENCHMARKS.md (the zero-allocation guarantee itself is asserted in tests).
//!
//! Run with `cargo bench -p dtpixel --bench allocations`; prints `allocs <case> <per-op>` lines.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use dtpixel::{EventType, HitParser, PixelId};

use common::*;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `f`, over `runs` calls.
fn per_op(runs: u64, mut f: impl FnMut()) -> f64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..runs {
        f();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / runs as f64
}

fn main() {
    let parser = HitParser::new();
    let base = baseline_base();
    let id = PixelId::parse(SEED_ID).expect("the seed id");
    let uuid = uuid::Uuid::parse_str(SEED_ID).expect("the seed id");
    let (targets, valid) = mixed_batch();
    let url64 = full_url_with_params(64);
    let mut buf = [0u8; 512];

    let rows = [
        (
            "parse.dtpixel",
            per_op(1000, || {
                black_box(ours_parse(&parser, black_box(FULL_URL)));
            }),
        ),
        (
            "parse.baseline",
            per_op(1000, || {
                let _ = black_box(baseline_parse(black_box(FULL_URL)));
            }),
        ),
        (
            "parse64.dtpixel",
            per_op(1000, || {
                black_box(ours_parse(&parser, black_box(&url64)));
            }),
        ),
        (
            "parse64.baseline",
            per_op(1000, || {
                let _ = black_box(baseline_parse(black_box(&url64)));
            }),
        ),
        (
            "batch.dtpixel",
            per_op(10, || {
                for t in &targets {
                    black_box(ours_parse(&parser, black_box(t)));
                }
            }) / BATCH as f64,
        ),
        (
            "batch.baseline",
            per_op(10, || {
                for t in &targets {
                    let _ = black_box(baseline_parse_target(&base, black_box(t)));
                }
            }) / BATCH as f64,
        ),
        (
            "build.dtpixel",
            per_op(1000, || {
                let url = ours_build(&mut buf, id, EventType::ADD_TO_CART, CB, black_box(&UTM));
                black_box(url.len());
            }),
        ),
        (
            "build.baseline",
            per_op(1000, || {
                black_box(baseline_build(&uuid, "add_to_cart", CB, black_box(&UTM)));
            }),
        ),
    ];
    for (case, allocs) in rows {
        println!("allocs {case} {allocs:.2}");
    }
    let bytes: usize = targets.iter().map(String::len).sum();
    println!("info batch_hits {}", targets.len());
    println!("info batch_valid {valid}");
    println!("info batch_bytes {bytes}");
}
