//! `dtpixel url`, `dtpixel tag` and `dtpixel parse`: the core's URL builder, tag and hit
//! parser on the command line.

use clap::Args;
use dtpixel::{BaseUrl, CacheBust, EventType, ImgTag, PixelHit, PixelId, PixelUrl};

use crate::{random, Failure};

/// The options of `dtpixel url`.
#[derive(Debug, Args)]
pub struct UrlArgs {
    /// The creator's pixel id (a hyphenated UUID).
    #[arg(long)]
    pixel_id: String,
    /// The event type: page_load, add_to_cart or a custom name.
    #[arg(long, default_value = "page_load")]
    event: String,
    /// The collector's base URL (https, or http for a loopback host), with an optional path prefix.
    #[arg(long, default_value = "https://dttrk.com")]
    base: String,
    /// A cache-buster token: every load of the URL is counted.
    #[arg(long, conflicts_with = "cache_bust_random")]
    cache_bust: Option<String>,
    /// A random cache-buster from the operating system's random source.
    #[arg(long)]
    cache_bust_random: bool,
}

/// The options of `dtpixel tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    #[command(flatten)]
    url: UrlArgs,
    /// Wrap the tag in <noscript>…</noscript>.
    #[arg(long)]
    noscript: bool,
}

/// The checked parts of a pixel URL.
struct Parts<'a> {
    id: PixelId,
    event: EventType,
    base: BaseUrl<'a>,
    cache_bust: Option<CacheBust<'a>>,
}

fn parts(args: &UrlArgs) -> Result<Parts<'_>, Failure> {
    let id = PixelId::parse(&args.pixel_id).map_err(Failure::usage)?;
    let event = EventType::parse(&args.event).map_err(Failure::usage)?;
    let base = BaseUrl::parse(&args.base).map_err(Failure::usage)?;
    let cache_bust = match (&args.cache_bust, args.cache_bust_random) {
        (Some(token), _) => Some(CacheBust::token(token)),
        (None, true) => Some(CacheBust::random(random::u64().map_err(Failure::runtime)?)),
        (None, false) => None,
    };
    Ok(Parts {
        id,
        event,
        base,
        cache_bust,
    })
}

fn pixel_url<'a>(parts: &Parts<'a>) -> PixelUrl<'a> {
    PixelUrl::new(parts.id, parts.event)
        .base(parts.base)
        .with_cache_bust(parts.cache_bust)
}

/// `dtpixel url`: prints the URL.
pub fn url(args: &UrlArgs) -> Result<(), Failure> {
    let parts = parts(args)?;
    println!("{}", pixel_url(&parts));
    Ok(())
}

/// `dtpixel tag`: prints the `<img>` tag (or its `<noscript>` variant).
pub fn tag(args: &TagArgs) -> Result<(), Failure> {
    let parts = parts(&args.url)?;
    let url = pixel_url(&parts);
    let tag = ImgTag::new(&url);
    let tag = if args.noscript { tag.noscript() } else { tag };
    println!("{tag}");
    Ok(())
}

/// `dtpixel parse`: prints the hit as one line of JSON.
pub fn parse(input: &str) -> Result<(), Failure> {
    let hit = PixelHit::parse(input).map_err(Failure::usage)?;
    let json = serde_json::to_string(&hit).map_err(Failure::runtime)?;
    println!("{json}");
    Ok(())
}
