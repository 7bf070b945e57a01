//! # dtpixel
//!
//! Influencer-attribution tracking pixels: how much traffic did each creator drive to a shop,
//! and how many of those people reached the cart?
//!
//! An event is recorded when a GET reaches
//! `https://dttrk.com/pixel/{pixel_id}/event.gif?event_type={event_type}`. This crate is the one
//! source of truth for those URLs, used by browsers (through the `dtpixel-wasm` client), by
//! partners generating tags server-side, and by Rust servers answering hits:
//!
//! - [`PixelId`] and [`EventType`]: the creator's UUID and what happened;
//! - [`PixelUrl`] and [`ImgTag`]: build URLs and hidden `<img>` tags, with no allocation;
//! - [`InlineTag`]: the inline `<script>` for a shop's pages, which fires the landing's
//!   `page_load` without waiting for a download and loads `auto.js` for the rest;
//! - [`PixelHit`] and [`HitParser`]: parse incoming hits, with no allocation;
//! - [`GIF`] and [`CacheMode`]: the 43-byte answer and its headers;
//! - [`urlencoded`]: the WHATWG `application/x-www-form-urlencoded` serializer and parser.
//!
//! ```
//! use dtpixel::{EventType, ImgTag, PixelHit, PixelId, PixelUrl};
//!
//! // A partner builds the tag for a creator's page...
//! let id: PixelId = "784e6454-8c63-44c5-89db-6dcd33abcdef".parse()?;
//! let url = PixelUrl::new(id, EventType::ADD_TO_CART);
//! let tag = ImgTag::new(&url).to_string();
//! assert!(tag.starts_with(r#"<img height="1" width="1" style="display:none" src="https://dttrk.com/pixel/"#));
//!
//! // ...and the collector reads the hit back.
//! let sent = url.to_string();
//! let hit = PixelHit::parse(&sent)?;
//! assert_eq!((hit.pixel_id(), hit.event_type()), (id, EventType::ADD_TO_CART));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//! - `std` (default): `std::error::Error` impls; enables `alloc`.
//! - `alloc`: `Cow` decoding and owned hits.
//! - `http`: [`PixelHit`] from `http::Request`/`http::Uri`, and the GIF and 400 answers as `http::Response`.
//! - `serde`: `Serialize`/`Deserialize` for ids, event types and hits.
//!
//! Without default features the crate is `no_std` and allocation-free.
#![no_std]
#![deny(missing_docs, missing_debug_implementations)]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod ascii;
mod base_url;
mod buffer;
mod event_type;
pub mod gif;
mod hit;
#[cfg(feature = "http")]
mod http_support;
mod inline_tag;
mod pixel_id;
mod pixel_url;
mod query_scan;
#[cfg(feature = "serde")]
mod serde_support;
mod swar;
mod tag;
pub mod urlencoded;

pub use base_url::{BaseUrl, BaseUrlError};
pub use buffer::{BufWriter, BufferTooSmall, WriteTo};
pub use event_type::{EventType, EventTypeError};
pub use gif::{CacheMode, GIF};
pub use hit::{HitError, HitParser, PixelHit};
#[cfg(feature = "http")]
pub use http_support::{error_response, gif_response};
pub use inline_tag::{InlineTag, InlineTagError};
pub use pixel_id::{PixelId, PixelIdError};
pub use pixel_url::{CacheBust, PixelUrl, ReservedParam, CACHE_BUST_PARAM, EVENT_TYPE_PARAM};
pub use tag::{HtmlEscaper, ImgTag};

/// The README's Rust examples, run as doc tests so they stay true.
#[cfg(all(doctest, feature = "http"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
