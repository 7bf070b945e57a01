//! `dtpixel inline-tag`: the core's inline `<script>` for a shop's pages, which fires the
//! landing's `page_load` as the HTML parser reaches it and loads `auto.js` for the rest.

use clap::Args;
use dtpixel::InlineTag;

use crate::Failure;

/// The options of `dtpixel inline-tag`.
#[derive(Debug, Args)]
pub struct InlineTagArgs {
    /// Where the shop serves the package's auto.js (https, or http for a loopback host).
    #[arg(long)]
    src: String,
    /// A start() option passed on to auto.js, as NAME=VALUE (repeatable): base, mode,
    /// transport, persist, ttlDays, param, autoPageLoad, spa, respectPrivacy, debug.
    #[arg(long = "option", value_name = "NAME=VALUE")]
    options: Vec<String>,
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
    let tag = InlineTag::new(&args.src, &options).map_err(Failure::usage)?;
    println!("{tag}");
    Ok(())
}
