//! Parsing pixel hits: `HitParser::parse` against the baseline a Rust server would write today
//! (`url::Url::parse` + `query_pairs()` + `uuid::Uuid::parse_str` + a match on the event name).
//!
//! Run with `cargo bench -p dtpixel --bench parse`; `cargo xtask bench` reads the results.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dtpixel::HitParser;

use common::*;

fn realistic(c: &mut Criterion) {
    let parser = HitParser::new();
    let base = baseline_base();
    // Both sides must agree on the hit before they are timed.
    let ours = ours_parse(&parser, FULL_URL).expect("ours parses the hit");
    let theirs = baseline_parse(FULL_URL).expect("the baseline parses the hit");
    assert_eq!(ours.0.as_bytes(), theirs.id.as_bytes());
    assert_eq!(ours.1.as_str(), "add_to_cart");
    assert_eq!(theirs.event, BaselineEvent::AddToCart);

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(FULL_URL.len() as u64));
    group.bench_function("dtpixel_full_url", |b| {
        b.iter(|| ours_parse(&parser, black_box(FULL_URL)))
    });
    group.bench_function("baseline_full_url", |b| {
        b.iter(|| baseline_parse(black_box(FULL_URL)))
    });
    group.throughput(Throughput::Bytes(TARGET.len() as u64));
    group.bench_function("dtpixel_target", |b| {
        b.iter(|| ours_parse(&parser, black_box(TARGET)))
    });
    group.bench_function("baseline_target", |b| {
        b.iter(|| baseline_parse_target(&base, black_box(TARGET)))
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let parser = HitParser::new();
    let base = baseline_base();
    let (targets, valid) = mixed_batch();
    let bytes: usize = targets.iter().map(String::len).sum();
    // The two parsers accept exactly the hits the batch means to be valid.
    let ours_ok = targets
        .iter()
        .filter(|t| ours_parse(&parser, t).is_some())
        .count();
    let theirs_ok = targets
        .iter()
        .filter(|t| baseline_parse_target(&base, t).is_ok())
        .count();
    assert_eq!(ours_ok, valid, "dtpixel accepts the valid hits only");
    assert_eq!(theirs_ok, valid, "the baseline accepts the valid hits only");

    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("dtpixel", |b| {
        b.iter(|| {
            targets
                .iter()
                .filter(|t| ours_parse(&parser, black_box(t)).is_some())
                .count()
        })
    });
    group.bench_function("baseline", |b| {
        b.iter(|| {
            targets
                .iter()
                .filter(|t| baseline_parse_target(&base, black_box(t)).is_ok())
                .count()
        })
    });
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let parser = HitParser::new();
    let mut group = c.benchmark_group("parse_extra_params");
    for n in EXTRA_PARAMS {
        let url = full_url_with_params(n);
        assert!(ours_parse(&parser, &url).is_some());
        assert!(baseline_parse(&url).is_ok());
        group.throughput(Throughput::Bytes(url.len() as u64));
        group.bench_with_input(BenchmarkId::new("dtpixel", n), &url, |b, url| {
            b.iter(|| ours_parse(&parser, black_box(url)))
        });
        group.bench_with_input(BenchmarkId::new("baseline", n), &url, |b, url| {
            b.iter(|| baseline_parse(black_box(url)))
        });
    }
    group.finish();
}

criterion_group!(benches, realistic, batch, scaling);
criterion_main!(benches);
