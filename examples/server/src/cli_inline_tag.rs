//! `dtpixel inline-tag`: the core's inline `<script>` for a shop's pages, which fires the
//! landing's `page_load` as the HTML parser reaches it and loads `auto.js` for the rest.

use clap::Args;
use dtpixel::{InlineTag, InlineTagError};
use sha2::{Digest, Sha256};

use crate::Failure;

/// The options of `dtpixel inline-tag`.
#[derive(Debug, Args)]
pub struct InlineTagArgs {
    /// Where the shop serves the package's auto.js (https, or http for a loopback host).
    #[arg(long, required_unless_present = "no_auto_js")]
    src: Option<String>,
    /// Load nothing: for a page whose own code imports dtpixel and calls start() with the same
    /// options (start() finds the page_load sent).
    #[arg(long, conflicts_with = "src")]
    no_auto_js: bool,
    /// A start() option passed on to auto.js, as NAME=VALUE (repeatable): base, mode,
    /// transport, persist, ttlDays, param, autoPageLoad, spa, respectPrivacy, debug.
    #[arg(long = "option", value_name = "NAME=VALUE")]
    options: Vec<String>,
    /// Print, instead of the tag, the Content-Security-Policy source that allows it
    /// ('sha256-…', for script-src beside auto.js's origin and 'wasm-unsafe-eval').
    #[arg(long)]
    csp_hash: bool,
}

/// `dtpixel inline-tag`: prints the tag.
pub fn inline_tag(args: &InlineTagArgs) -> Result<(), Failure> {
    let options = args
        .options
        .iter()
        .map(|o| {
            o.split_once('=')
                .ok_or_else(|| Failure::usage(format!("--option {o:?}: expected NAME=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tag = match &args.src {
        Some(src) => InlineTag::new(src, &options),
        None => InlineTag::without_auto_js(&options),
    };
    let tag = tag
        .map_err(|e| match e {
            InlineTagError::UnknownOption { index } => Failure::usage(format!(
                "--option {}: {e}",
                options.get(index).map_or("?", |o| o.0)
            )),
            e => Failure::usage(e),
        })?
        .to_string();
    if args.csp_hash {
        println!("{}", csp_hash(&tag));
    } else {
        println!("{tag}");
    }
    Ok(())
}

/// The CSP hash source of an inline `<script>…</script>`: the SHA-256 of its text, in base64.
fn csp_hash(tag: &str) -> String {
    let script = tag
        .strip_prefix("<script>")
        .and_then(|t| t.strip_suffix("</script>"))
        .unwrap_or(tag);
    format!("'sha256-{}'", base64(&Sha256::digest(script.as_bytes())))
}

/// Standard base64, with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_rfc_4648_writes_it() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn the_hash_is_of_the_script_text() {
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            csp_hash("<script>alert(1)</script>"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }
}
