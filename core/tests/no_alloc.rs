//! Proves the allocation-free paths allocate nothing, with a counting global allocator.
//!
//! The counter is per thread, so the test harness (and other tests running in parallel)
//! cannot add to the count of the code measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dtpixel::{
    BaseUrl, CacheBust, CacheMode, EventType, HitParser, ImgTag, PixelHit, PixelId, PixelUrl,
    WriteTo,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static COUNTER: Counting = Counting;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = std::hint::black_box(f());
    let after = ALLOCATIONS.with(Cell::get);
    (after - before, result)
}

const TARGET: &str = "/t/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart&cb=1700000000123&utm_source=creator&utm_campaign=winter";

#[test]
fn the_counter_sees_allocations() {
    // Guards the other tests against a counter that never counts.
    let (n, v) = allocations(|| vec![1u8; 64]);
    assert!(n >= 1 && v.len() == 64);
}

#[test]
fn parsing_a_hit_allocates_nothing() {
    let parser = HitParser::new().with_prefix("/t").unwrap();
    let (n, summary) = allocations(|| {
        let hit = parser.parse(TARGET).unwrap();
        let mut pairs = 0;
        let mut decoded_chars = 0;
        for (name, value) in hit.query_pairs() {
            pairs += 1;
            decoded_chars += name.chars().count() + value.chars().count();
        }
        (
            hit.pixel_id(),
            hit.event_type(),
            hit.cache_bust().map(|c| c.raw().len()),
            hit.cache_mode(),
            pairs,
            decoded_chars,
        )
    });
    assert_eq!(n, 0, "parsing allocated {n} times");
    assert_eq!(summary.1, EventType::ADD_TO_CART);
    assert_eq!(summary.2, Some(13));
    assert_eq!(summary.3, CacheMode::NoStore);
    assert_eq!(summary.4, 4);
}

#[test]
fn decoding_encoded_values_without_alloc_allocates_nothing() {
    let target = "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event%5Ftype=add%5Fto%5Fcart&q=%E2%80%A0+x&bad=%zz%C3";
    let (n, ok) = allocations(|| {
        let hit = PixelHit::parse(target).unwrap();
        let q = hit.query_pairs().nth(1).unwrap().1;
        (
            hit.event_type() == EventType::ADD_TO_CART,
            q.decodes_to("† x"),
        )
    });
    assert_eq!(n, 0);
    assert_eq!(ok, (true, true));
}

#[test]
fn errors_allocate_nothing() {
    let bad = [
        "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdeg/event.gif",
        "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=a&event_type=b",
        "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=Bad",
        "/nope",
    ];
    let (n, errors) = allocations(|| bad.map(|t| PixelHit::parse(t).is_err()));
    assert_eq!(n, 0);
    assert_eq!(errors, [true; 4]);
}

#[test]
fn custom_event_types_allocate_nothing() {
    let name = "x".repeat(EventType::MAX_LEN);
    let (n, event) = allocations(|| EventType::parse(&name).unwrap());
    assert_eq!(n, 0);
    assert_eq!(event.as_str(), name);
}

#[test]
fn building_urls_and_tags_into_a_buffer_allocates_nothing() {
    let id = PixelId::parse("784e6454-8c63-44c5-89db-6dcd33abcdef").unwrap();
    let base = BaseUrl::parse("https://shop.example/t").unwrap();
    let params = [("utm_source", "creator mail"), ("note", "50% off & more")];
    let mut url_buf = [0u8; 512];
    let mut tag_buf = [0u8; 1024];
    let (n, (url_len, tag_len)) = allocations(|| {
        let url = PixelUrl::new(id, EventType::ADD_TO_CART)
            .base(base)
            .cache_bust(CacheBust::random(0xdead_beef))
            .params(&params)
            .unwrap();
        let url_len = url.encode(&mut url_buf).unwrap().len();
        let tag_len = ImgTag::new(&url)
            .noscript()
            .encode(&mut tag_buf)
            .unwrap()
            .len();
        (url_len, tag_len)
    });
    assert_eq!(n, 0, "building allocated {n} times");
    let url = std::str::from_utf8(&url_buf[..url_len]).unwrap();
    assert_eq!(
        url,
        "https://shop.example/t/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart&cb=00000000deadbeef&utm_source=creator+mail&note=50%25+off+%26+more"
    );
    assert!(std::str::from_utf8(&tag_buf[..tag_len])
        .unwrap()
        .contains("event_type=add_to_cart&amp;cb="));
}

#[test]
fn ids_and_headers_allocate_nothing() {
    let mut buf = [0u8; PixelId::LENGTH];
    let (n, ok) = allocations(|| {
        let id = PixelId::parse("784E6454-8C63-44C5-89DB-6DCD33ABCDEF").unwrap();
        let same = id.encode_lower(&mut buf) == "784e6454-8c63-44c5-89db-6dcd33abcdef";
        let headers = CacheMode::DEFAULT_CACHED.headers();
        same && headers.iter().count() == 6
            && headers.cache_control() == "private, max-age=31536000"
    });
    assert_eq!(n, 0);
    assert!(ok);
}
