//! What the core benchmarks share: the inputs (a realistic hit, the 10,000-hit mixed batch, the
//! query-length series) and the baselines a Rust server or partner would write today with the
//! `url` and `uuid` crates.
#![allow(dead_code)] // each bench target uses part of this module

use std::borrow::Cow;

use dtpixel::{CacheBust, EventType, HitParser, PixelId, PixelUrl, WriteTo};

/// The seed's pixel id.
pub const SEED_ID: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";
/// The default collector origin.
pub const ORIGIN: &str = "https://dttrk.com";
/// The realistic request target: an add-to-cart hit with a cache-buster.
pub const TARGET: &str =
    "/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart&cb=9f86d081884c7d65";
/// The realistic hit as a full URL (what the baseline parses).
pub const FULL_URL: &str = "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart&cb=9f86d081884c7d65";
/// The cache-buster the build benchmark writes.
pub const CB: &str = "9f86d081884c7d65";
/// Numbers of extra query parameters in the scaling series.
pub const EXTRA_PARAMS: [usize; 3] = [1, 8, 64];
/// Hits in the mixed batch.
pub const BATCH: usize = 10_000;

/// The event, as the baseline types it: a match on the name, custom names borrowed.
#[derive(Debug, PartialEq, Eq)]
pub enum BaselineEvent<'a> {
    /// `page_load` (or no `event_type`).
    PageLoad,
    /// `add_to_cart`.
    AddToCart,
    /// Any other valid name.
    Custom(Cow<'a, str>),
}

/// A hit as the baseline types it.
#[derive(Debug)]
pub struct BaselineHit<'a> {
    /// The pixel id.
    pub id: uuid::Uuid,
    /// The event.
    pub event: BaselineEvent<'a>,
    /// The decoded cache-buster.
    pub cb: Option<Cow<'a, str>>,
}

/// Why the baseline refused a hit (kept coarse: the baseline is not asked for precise errors).
#[derive(Debug, PartialEq, Eq)]
pub enum BaselineError {
    /// Not a URL.
    Url,
    /// Not `/pixel/{id}/event.gif`.
    Path,
    /// Not a UUID.
    Id,
    /// Not a valid event name.
    Event,
    /// `event_type` or `cb` repeated.
    Repeated,
}

/// The same event-name rule as `EventType`: 1 to 64 bytes of `[a-z0-9_]` starting with `[a-z]`.
fn valid_event_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// The baseline's work once it has a `Url`: path segments, `Uuid::parse_str`, `query_pairs()`,
/// and a match on the event name; it refuses what `PixelHit::parse` refuses.
fn baseline_from_url(url: &url::Url) -> Result<BaselineHit<'static>, BaselineError> {
    let mut segments = url.path_segments().ok_or(BaselineError::Path)?;
    if segments.next() != Some("pixel") {
        return Err(BaselineError::Path);
    }
    let id = segments.next().ok_or(BaselineError::Path)?;
    if segments.next() != Some("event.gif") || segments.next().is_some() {
        return Err(BaselineError::Path);
    }
    let id = uuid::Uuid::parse_str(id).map_err(|_| BaselineError::Id)?;
    let mut event = None;
    let mut cb = None;
    for (name, value) in url.query_pairs() {
        match &*name {
            "event_type" => {
                if event.is_some() {
                    return Err(BaselineError::Repeated);
                }
                event = Some(match &*value {
                    "page_load" => BaselineEvent::PageLoad,
                    "add_to_cart" => BaselineEvent::AddToCart,
                    other if valid_event_name(other) => {
                        BaselineEvent::Custom(Cow::Owned(value.into_owned()))
                    }
                    _ => return Err(BaselineError::Event),
                });
            }
            "cb" => {
                if cb.is_some() {
                    return Err(BaselineError::Repeated);
                }
                cb = Some(Cow::Owned(value.into_owned()));
            }
            _ => {}
        }
    }
    Ok(BaselineHit {
        id,
        event: event.unwrap_or(BaselineEvent::PageLoad),
        cb,
    })
}

/// The baseline parse of a full URL: `url::Url::parse` + `query_pairs()` + `Uuid::parse_str` +
/// a match on the event name.
pub fn baseline_parse(full_url: &str) -> Result<BaselineHit<'static>, BaselineError> {
    let url = url::Url::parse(full_url).map_err(|_| BaselineError::Url)?;
    baseline_from_url(&url)
}

/// The baseline parse of a request target, joined to the collector's origin as a server would.
pub fn baseline_parse_target(
    base: &url::Url,
    target: &str,
) -> Result<BaselineHit<'static>, BaselineError> {
    let url = base.join(target).map_err(|_| BaselineError::Url)?;
    baseline_from_url(&url)
}

/// The collector's origin as a `url::Url`, for joining request targets.
pub fn baseline_base() -> url::Url {
    url::Url::parse(ORIGIN).expect("the origin is a URL")
}

/// Our parse, reduced to what the baseline returns (so neither side's work is optimized away).
pub fn ours_parse(parser: &HitParser<'_>, input: &str) -> Option<(PixelId, EventType, usize)> {
    parser.parse(input).ok().map(|hit| {
        let cb_len = hit.cache_bust().map_or(0, |cb| cb.raw().len());
        (hit.pixel_id(), hit.event_type(), cb_len)
    })
}

/// Our build: the realistic URL (cache-buster + extra params) into a stack buffer.
pub fn ours_build<'b>(
    buf: &'b mut [u8],
    id: PixelId,
    event: EventType,
    cb: &str,
    params: &[(&str, &str)],
) -> &'b str {
    let url = PixelUrl::new(id, event)
        .cache_bust(CacheBust::token(cb))
        .params(params)
        .expect("no reserved names");
    url.encode(buf).expect("the buffer is large enough")
}

/// The baseline build: `format!` of the path, `url::Url::parse`, then `query_pairs_mut()`
/// (`form_urlencoded`) for every parameter, as a partner writes it today.
pub fn baseline_build(id: &uuid::Uuid, event: &str, cb: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{ORIGIN}/pixel/{id}/event.gif")).expect("a URL");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("event_type", event).append_pair("cb", cb);
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    url.into()
}

/// The realistic extra parameters a creator link carries (some need encoding).
pub const UTM: [(&str, &str); 3] = [
    ("utm_source", "instagram"),
    ("utm_campaign", "winter sale"),
    ("utm_content", "reel#3"),
];

/// A query with `n` extra parameters after `event_type` and `cb` (a third of them need encoding).
pub fn extra_params(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| match i % 3 {
            0 => (format!("utm_p{i}"), format!("value{i}")),
            1 => (format!("k{i}"), format!("two words {i}")),
            _ => (format!("ref{i}"), format!("https://shop.example/p?{i}")),
        })
        .collect()
}

/// The realistic URL with `n` extra parameters, as a full URL.
pub fn full_url_with_params(n: usize) -> String {
    let id = PixelId::parse(SEED_ID).expect("the seed id");
    let params = extra_params(n);
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    PixelUrl::new(id, EventType::ADD_TO_CART)
        .cache_bust(CB)
        .params(&pairs)
        .expect("no reserved names")
        .to_string()
}

/// A small deterministic generator (xorshift64*), so every run parses the same batch.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn random_id(rng: &mut Rng) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    PixelId::from_random_bytes(bytes).to_string()
}

/// One of the batch's request targets, and whether it is a valid hit. The mix: 70 % valid
/// (page loads with and without `event_type`, add-to-cart, custom events, cache-busters, UTM
/// parameters, percent-encoding, upper-case ids) and 30 % invalid (bad ids, wrong paths, bad or
/// repeated event types, hostile query strings, other files).
pub fn mixed_target(rng: &mut Rng) -> (String, bool) {
    let id = random_id(rng);
    let cb = format!("{:016x}", rng.next_u64());
    let kind = rng.below(20);
    let target = match kind {
        0..=3 => format!("/pixel/{id}/event.gif?event_type=page_load&cb={cb}"),
        4..=5 => format!("/pixel/{id}/event.gif"),
        6..=8 => format!("/pixel/{id}/event.gif?event_type=add_to_cart&cb={cb}"),
        9 => format!(
            "/pixel/{id}/event.gif?event_type=add_to_cart&utm_source=instagram&utm_campaign=winter+sale&utm_content=reel%233"
        ),
        10 => format!("/pixel/{id}/event.gif?event_type=newsletter_signup&cb={cb}"),
        11 => format!(
            "/pixel/{}/event.gif?event%5Ftype=add%5Fto%5Fcart&cb={cb}",
            id.to_ascii_uppercase()
        ),
        12 => format!("/pixel/{id}/event.gif?event_type=page_load&fbclid=IwAR{cb}{cb}&gclid={cb}"),
        13 => format!("/pixel/{}/event.gif?event_type=page_load", &id[..35]),
        14 => format!("/pixel/{}x/event.gif?event_type=page_load", &id[..35]),
        15 => format!("/pixel/{id}/event.png?event_type=page_load"),
        16 => "/favicon.ico".to_string(),
        17 => format!("/pixel/{id}/event.gif?event_type=Add-To-Cart"),
        18 => format!("/pixel/{id}/event.gif?event_type=page_load&event_type=add_to_cart"),
        _ => format!("/pixel/{id}/event.gif?event_type=%zz%FF%00&q=%%%&&&==&cb={cb}"),
    };
    (target, kind <= 12)
}

/// The mixed batch of request targets, with how many are valid.
pub fn mixed_batch() -> (Vec<String>, usize) {
    let mut rng = Rng::new(0x5eed_d7b1_c5e1);
    let mut valid = 0;
    let targets = (0..BATCH)
        .map(|_| {
            let (target, ok) = mixed_target(&mut rng);
            valid += usize::from(ok);
            target
        })
        .collect();
    (targets, valid)
}
