//! Building pixel URLs: `PixelUrl::encode` into a stack buffer against `format!` + `url::Url`
//! with `query_pairs_mut()` (`form_urlencoded`), as a partner writes it today.
//!
//! Run with `cargo bench -p dtpixel --bench build`; `cargo xtask bench` reads the results.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dtpixel::{EventType, PixelId};

use common::*;

fn realistic(c: &mut Criterion) {
    let id = PixelId::parse(SEED_ID).expect("the seed id");
    let uuid = uuid::Uuid::parse_str(SEED_ID).expect("the seed id");
    let mut buf = [0u8; 512];
    // Both sides build the same URL before they are timed.
    assert_eq!(
        ours_build(&mut buf, id, EventType::ADD_TO_CART, CB, &UTM),
        baseline_build(&uuid, "add_to_cart", CB, &UTM)
    );

    let mut group = c.benchmark_group("build");
    group.bench_function("dtpixel_stack_buffer", |b| {
        // One stack buffer, reused as a server or partner reuses it.
        let mut buf = [0u8; 512];
        b.iter(|| {
            let url = ours_build(
                &mut buf,
                black_box(id),
                EventType::ADD_TO_CART,
                black_box(CB),
                black_box(&UTM),
            );
            black_box(url.len())
        })
    });
    group.bench_function("baseline_format_url", |b| {
        b.iter(|| {
            baseline_build(
                black_box(&uuid),
                black_box("add_to_cart"),
                black_box(CB),
                black_box(&UTM),
            )
        })
    });
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let id = PixelId::parse(SEED_ID).expect("the seed id");
    let uuid = uuid::Uuid::parse_str(SEED_ID).expect("the seed id");
    let mut group = c.benchmark_group("build_extra_params");
    for n in EXTRA_PARAMS {
        let owned = extra_params(n);
        let params: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut buf = vec![0u8; 16 * 1024];
        assert_eq!(
            ours_build(&mut buf, id, EventType::ADD_TO_CART, CB, &params),
            baseline_build(&uuid, "add_to_cart", CB, &params)
        );
        group.bench_with_input(BenchmarkId::new("dtpixel", n), &params, |b, params| {
            let mut buf = [0u8; 8192];
            b.iter(|| {
                let url = ours_build(&mut buf, id, EventType::ADD_TO_CART, CB, black_box(params));
                black_box(url.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("baseline", n), &params, |b, params| {
            b.iter(|| baseline_build(&uuid, "add_to_cart", CB, black_box(params)))
        });
    }
    group.finish();
}

criterion_group!(benches, realistic, scaling);
criterion_main!(benches);
