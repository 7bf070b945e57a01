//! Unit tests of the exports. They run natively in `cargo test` and in headless Chromium with
//! `cargo test -p dtpixel-wasm --target wasm32-unknown-unknown` (wasm-bindgen-test-runner), and
//! compare every output with the core crate's own `to_string`.

use super::*;
use dtpixel::{CacheBust, EventType, ImgTag, PixelId, PixelUrl};
use std::string::{String, ToString};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const SEED: &str = "784e6454-8c63-44c5-89db-6dcd33abcdef";

/// Writes the inputs, calls `build`, returns the output or the error code.
fn call(inputs: [&str; 4], flags: u32, bits: u64) -> Result<String, i32> {
    let mut buf = [0u8; IO_LEN];
    let mut at = 0;
    let mut lens = [0; 4];
    for (len, s) in lens.iter_mut().zip(inputs) {
        buf[at..at + s.len()].copy_from_slice(s.as_bytes());
        *len = s.len();
        at += s.len();
    }
    let n = build(&mut buf, lens, flags, bits);
    if n < 0 {
        return Err(n);
    }
    Ok(std::str::from_utf8(&buf[OUT..OUT + n as usize])
        .unwrap()
        .to_string())
}

fn seed() -> PixelId {
    PixelId::parse(SEED).unwrap()
}

macro_rules! tests {
    ($($(#[$m:meta])* fn $name:ident() $body:block)*) => {$(
        $(#[$m])*
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        fn $name() $body
    )*};
}

tests! {
    fn seed_urls_are_exactly_the_cores() {
        for event in ["page_load", "add_to_cart", "newsletter_signup"] {
            let expected =
                PixelUrl::new(seed(), EventType::parse(event).unwrap()).to_string();
            assert_eq!(call(["", SEED, event, ""], 0, 0).unwrap(), expected);
        }
        assert_eq!(
            call(["", SEED, "page_load", ""], 0, 0).unwrap(),
            "https://dttrk.com/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=page_load"
        );
    }

    fn ids_are_case_insensitive_and_written_lowercase() {
        let upper = SEED.to_ascii_uppercase();
        assert_eq!(
            call(["", &upper, "page_load", ""], 0, 0).unwrap(),
            call(["", SEED, "page_load", ""], 0, 0).unwrap()
        );
        let mut buf = [0u8; IO_LEN];
        buf[..36].copy_from_slice(upper.as_bytes());
        assert_eq!(canonical(&mut buf, 36), 36);
        assert_eq!(&buf[OUT..OUT + 36], SEED.as_bytes());
    }

    fn random_and_token_cache_busters() {
        let bits = 0x0123_4567_89ab_cdef;
        let expected = PixelUrl::new(seed(), EventType::PAGE_LOAD)
            .cache_bust(CacheBust::random(bits))
            .to_string();
        assert_eq!(call(["", SEED, "page_load", ""], FLAG_RANDOM, bits).unwrap(), expected);
        assert!(expected.ends_with("&cb=0123456789abcdef"));
        assert_eq!(
            call(["", SEED, "page_load", "a b&c"], FLAG_TOKEN, 0).unwrap(),
            PixelUrl::new(seed(), EventType::PAGE_LOAD).cache_bust("a b&c").to_string()
        );
    }

    fn bases_are_validated_by_the_core() {
        assert_eq!(
            call(["https://shop.example/t/", SEED, "add_to_cart", ""], 0, 0).unwrap(),
            "https://shop.example/t/pixel/784e6454-8c63-44c5-89db-6dcd33abcdef/event.gif?event_type=add_to_cart"
        );
        assert!(call(["http://127.0.0.1:8080", SEED, "page_load", ""], 0, 0).is_ok());
        for bad in ["http://shop.example", "javascript:alert(1)", "https://a.example/?q", "https://"] {
            assert_eq!(call([bad, SEED, "page_load", ""], 0, 0), Err(BAD_BASE_URL), "{bad}");
        }
    }

    fn bad_ids_and_event_types_are_refused() {
        for bad in ["", "784e6454", "784e6454-8c63-44c5-89db-6dcd33abcdeg", "<script>"] {
            assert_eq!(call(["", bad, "page_load", ""], 0, 0), Err(BAD_PIXEL_ID), "{bad}");
            let mut buf = [0u8; IO_LEN];
            buf[..bad.len()].copy_from_slice(bad.as_bytes());
            assert_eq!(canonical(&mut buf, bad.len()), BAD_PIXEL_ID);
        }
        for bad in ["", "Add", "add-to-cart", "x\"><img", &"a".repeat(65)] {
            assert_eq!(call(["", SEED, bad, ""], 0, 0), Err(BAD_EVENT_TYPE), "{bad}");
        }
    }

    fn tags_are_the_cores_escaped_tags() {
        let url = PixelUrl::new(seed(), EventType::ADD_TO_CART).cache_bust("x\"<y>");
        assert_eq!(
            call(["", SEED, "add_to_cart", "x\"<y>"], FLAG_TOKEN | FLAG_TAG, 0).unwrap(),
            ImgTag::new(&url).to_string()
        );
        let plain = PixelUrl::new(seed(), EventType::PAGE_LOAD);
        assert_eq!(
            call(["", SEED, "page_load", ""], FLAG_TAG | FLAG_NOSCRIPT, 0).unwrap(),
            ImgTag::new(&plain).noscript().to_string()
        );
    }

    fn oversized_inputs_and_outputs_fail_cleanly() {
        // Lengths that run past the input area, or overflow.
        let mut buf = [0u8; IO_LEN];
        assert_eq!(build(&mut buf, [OUT, 1, 0, 0], 0, 0), TOO_LONG);
        assert_eq!(build(&mut buf, [usize::MAX, 2, 0, 0], 0, 0), TOO_LONG);
        assert_eq!(build(&mut [0u8; 16], [0, 0, 0, 0], 0, 0), TOO_LONG);
        assert_eq!(canonical(&mut [0u8; 16], 0), BAD_PIXEL_ID);
        // A token whose escaped form does not fit in the output area.
        let token = "é".repeat(400);
        assert_eq!(call(["", SEED, "page_load", &token], FLAG_TOKEN, 0), Err(TOO_LONG));
    }

    fn the_exported_functions_use_the_static_buffer() {
        let io = io();
        let input = [SEED.as_bytes(), b"page_load"].concat();
        // SAFETY: the buffer is IO_LEN bytes; no other borrow is alive (single test touches it).
        let buf = unsafe { core::slice::from_raw_parts_mut(io, IO_LEN) };
        buf[..input.len()].copy_from_slice(&input);
        let n = pixel_url(0, 36, 9, 0, FLAG_RANDOM, 0xdead_beef, 0x0000_0001);
        let buf = unsafe { core::slice::from_raw_parts(io, IO_LEN) };
        let url = std::str::from_utf8(&buf[OUT..OUT + n as usize]).unwrap();
        assert!(url.ends_with("?event_type=page_load&cb=deadbeef00000001"), "{url}");
        assert_eq!(canonical_id(36), 36);
    }
}
