//! # dtpixel-wasm
//!
//! The WebAssembly half of the `dtpixel` npm package: pixel ids, event types, base URLs, pixel
//! URLs and `<img>` tags, all from the [`dtpixel`] core crate, so that the browser builds exactly
//! the URLs the Rust servers and partners build.
//!
//! The browser behaviour (reading `dt_pixel_id`, storage, firing, consent, the queue, SPA views)
//! lives in the small hand-written JavaScript of `client-wasm/js/`, which calls the three
//! functions below. That split keeps what every shopper downloads small: the module links no
//! allocator, no `core::fmt` formatting machinery and no panic messages, and its JavaScript glue
//! is a few lines instead of wasm-bindgen's generic string marshalling.
//!
//! The `bundle` feature (what `cargo xtask pkg` builds) makes the crate `#![no_std]` on wasm,
//! with a panic handler that just traps and an allocator that refuses; without it the crate is a
//! normal std crate, which is how its unit tests run (natively and under wasm-bindgen-test).
//!
//! ## The calling convention
//! Strings travel through one static exchange buffer of [`IO_LEN`] bytes at [`io`]: the caller
//! writes its UTF-8 inputs one after the other from the start, calls a function with their
//! lengths, and reads the output (UTF-8, the returned number of bytes) at offset [`OUT`]. A
//! negative return is an error code: [`BAD_PIXEL_ID`], [`BAD_EVENT_TYPE`], [`BAD_BASE_URL`] or
//! [`TOO_LONG`].
//!
//! ```
//! use dtpixel_wasm::{build, FLAG_TAG, OUT};
//!
//! let mut buf = [0u8; 4096];
//! let (id, event) = ("784e6454-8c63-44c5-89db-6dcd33abcdef", "add_to_cart");
//! buf[..36].copy_from_slice(id.as_bytes());
//! buf[36..47].copy_from_slice(event.as_bytes());
//! let n = build(&mut buf, [0, 36, 11, 0], 0, 0);
//! assert_eq!(
//!     std::str::from_utf8(&buf[OUT..OUT + n as usize]).unwrap(),
//!     "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart"
//! );
//! ```
#![cfg_attr(all(feature = "bundle", target_arch = "wasm32"), no_std)]
#![deny(missing_docs, missing_debug_implementations)]

use core::cell::UnsafeCell;

use dtpixel::{BaseUrl, CacheBust, EventType, ImgTag, PixelId, PixelUrl, WriteTo};
use wasm_bindgen::prelude::wasm_bindgen;

/// Size of the exchange buffer, in bytes.
pub const IO_LEN: usize = 4096;
/// Offset of the output in the exchange buffer; the inputs must fit before it.
pub const OUT: usize = 2048;

/// The pixel id is not a UUID in hyphenated form.
pub const BAD_PIXEL_ID: i32 = -1;
/// The event type is not a valid event name.
pub const BAD_EVENT_TYPE: i32 = -2;
/// The base URL is not an https origin (or loopback http) with an optional path.
pub const BAD_BASE_URL: i32 = -3;
/// The inputs or the output do not fit in the exchange buffer.
pub const TOO_LONG: i32 = -4;

/// [`pixel_url`] flag: add a random cache-buster made of `hi` and `lo`.
pub const FLAG_RANDOM: u32 = 1;
/// [`pixel_url`] flag: add the fourth input as the cache-buster token.
pub const FLAG_TOKEN: u32 = 2;
/// [`pixel_url`] flag: write the hidden `<img>` tag instead of the bare URL.
pub const FLAG_TAG: u32 = 4;
/// [`pixel_url`] flag, with [`FLAG_TAG`]: wrap the tag in `<noscript>`.
pub const FLAG_NOSCRIPT: u32 = 8;

struct Io(UnsafeCell<[u8; IO_LEN]>);

// SAFETY: wasm32-unknown-unknown without the atomics feature is single-threaded, and every
// access below is a short, non-reentrant borrow inside one exported call.
unsafe impl Sync for Io {}

static IO: Io = Io(UnsafeCell::new([0; IO_LEN]));

fn with_io(f: impl FnOnce(&mut [u8; IO_LEN]) -> i32) -> i32 {
    // SAFETY: see `Io`: no other borrow of the buffer is alive during an exported call (the
    // JavaScript side only touches it between calls).
    f(unsafe { &mut *IO.0.get() })
}

/// The address of the exchange buffer in the module's memory (constant for the module's life).
#[wasm_bindgen]
pub fn io() -> *mut u8 {
    IO.0.get().cast()
}

/// Builds a pixel URL (or tag) from the inputs in the exchange buffer: base URL (empty for
/// `https://dttrk.com`), pixel id, event type and cache-buster token, with lengths `base`,
/// `id`, `event` and `token`. `flags` combines [`FLAG_RANDOM`] (cache-buster from the 64 random
/// bits `hi`·2³² + `lo`), [`FLAG_TOKEN`], [`FLAG_TAG`] and [`FLAG_NOSCRIPT`]. Returns the output
/// length at [`OUT`], or an error code.
#[wasm_bindgen]
pub fn pixel_url(base: u32, id: u32, event: u32, token: u32, flags: u32, hi: u32, lo: u32) -> i32 {
    let lens = [base as usize, id as usize, event as usize, token as usize];
    let bits = (u64::from(hi) << 32) | u64::from(lo);
    with_io(|buf| build(buf, lens, flags, bits))
}

/// Validates the pixel id in the first `len` bytes of the exchange buffer and writes its
/// canonical lowercase form at [`OUT`]. Returns 36, or [`BAD_PIXEL_ID`].
#[wasm_bindgen]
pub fn canonical_id(len: u32) -> i32 {
    with_io(|buf| canonical(buf, len as usize))
}

/// [`canonical_id`] on any buffer of at least [`IO_LEN`] bytes.
pub fn canonical(buf: &mut [u8], len: usize) -> i32 {
    if len > OUT || buf.len() < OUT + PixelId::LENGTH {
        return BAD_PIXEL_ID;
    }
    let (input, out) = buf.split_at_mut(OUT);
    let (Some(input), Some(out)) = (input.get(..len), out.get_mut(..PixelId::LENGTH)) else {
        return BAD_PIXEL_ID;
    };
    let Ok(id) = PixelId::parse_bytes(input) else {
        return BAD_PIXEL_ID;
    };
    let mut text = [0u8; PixelId::LENGTH];
    copy(out, id.encode_lower(&mut text).as_bytes());
    PixelId::LENGTH as i32
}

/// [`pixel_url`] on any buffer of at least [`IO_LEN`] bytes: `lens` are the lengths of the base
/// URL, pixel id, event type and token written one after the other from `buf[0]`.
pub fn build(buf: &mut [u8], lens: [usize; 4], flags: u32, bits: u64) -> i32 {
    if buf.len() < IO_LEN {
        return TOO_LONG;
    }
    let (input, out) = buf.split_at_mut(OUT);
    let mut parts = [&[][..]; 4];
    let mut start: usize = 0;
    for (part, len) in parts.iter_mut().zip(lens) {
        let Some(bytes) = start.checked_add(len).and_then(|end| input.get(start..end)) else {
            return TOO_LONG;
        };
        *part = bytes;
        start += len;
    }
    let [base, id, event, token] = parts;
    let base = match core::str::from_utf8(base) {
        Ok("") => BaseUrl::DEFAULT,
        Ok(text) => match BaseUrl::parse(text) {
            Ok(base) => base,
            Err(_) => return BAD_BASE_URL,
        },
        Err(_) => return BAD_BASE_URL,
    };
    let Ok(id) = PixelId::parse_bytes(id) else {
        return BAD_PIXEL_ID;
    };
    let Some(event) = core::str::from_utf8(event)
        .ok()
        .and_then(|e| EventType::parse(e).ok())
    else {
        return BAD_EVENT_TYPE;
    };
    let Ok(token) = core::str::from_utf8(token) else {
        return TOO_LONG;
    };
    let mut url = PixelUrl::new(id, event).base(base);
    if flags & FLAG_RANDOM != 0 {
        url = url.cache_bust(CacheBust::random(bits));
    } else if flags & FLAG_TOKEN != 0 {
        url = url.cache_bust(token);
    }
    // Written once: a failed write means the output area is full (no second, counting pass).
    let mut w = Out { buf: out, len: 0 };
    let written = if flags & FLAG_TAG != 0 {
        let tag = ImgTag::new(&url);
        let tag = if flags & FLAG_NOSCRIPT != 0 {
            tag.noscript()
        } else {
            tag
        };
        tag.write_to(&mut w)
    } else {
        url.write_to(&mut w)
    };
    match written {
        Ok(()) => w.len as i32,
        Err(_) => TOO_LONG,
    }
}

/// A `fmt::Write` into the output area that fails, instead of panicking, when it is full.
struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl core::fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        copy(dst, s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Copies `src` into the start of `dst`. Unlike `copy_from_slice`, it has no length-mismatch
/// panic, whose message would link `core::fmt`'s integer formatting into the module.
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Aborts without formatting anything: no panic path can be reached from the exports with
/// valid memory, and this keeps `core::fmt` out of the module.
#[cfg(all(feature = "bundle", target_arch = "wasm32"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// The module never allocates (`wasm-bindgen` requires the `alloc` crate to be linked, so an
/// allocator must exist): every request is refused, and the linker drops it as unused.
#[cfg(all(feature = "bundle", target_arch = "wasm32"))]
#[global_allocator]
static NO_ALLOC: NoAlloc = NoAlloc;

#[cfg(all(feature = "bundle", target_arch = "wasm32"))]
struct NoAlloc;

#[cfg(all(feature = "bundle", target_arch = "wasm32"))]
// SAFETY: returning null is the documented way to report that an allocation failed.
unsafe impl core::alloc::GlobalAlloc for NoAlloc {
    unsafe fn alloc(&self, _: core::alloc::Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _: *mut u8, _: core::alloc::Layout) {}
}

#[cfg(test)]
mod tests;
