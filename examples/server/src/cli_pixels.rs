//! `dtpixel pixels add --name …` and `dtpixel pixels list`: creators, their random pixel ids
//! and their tags.

use clap::{Args, Subcommand};
use dtpixel::{BaseUrl, EventType, ImgTag, PixelId, PixelUrl};

use crate::{dates, random, store, DbArgs, Failure};

/// `dtpixel pixels …`.
#[derive(Debug, Subcommand)]
pub enum PixelsCommand {
    /// Create a creator: a random (v4) pixel id with a name. Prints the id.
    Add {
        /// The creator's name, shown in the report.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the creators: pixel id, name and page-load tag, tab-separated.
    List(ListArgs),
}

/// The options of `dtpixel pixels list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The collector's base URL used in the tags.
    #[arg(long, default_value = "https://dttrk.com")]
    base: String,
}

/// The longest name accepted, in characters.
const MAX_NAME: usize = 200;

/// Checks a creator's name: 1 to 200 characters, no control characters.
pub fn check_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("--name: the name is empty".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("--name: longer than {MAX_NAME} characters"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "--name: control character U+{:04X} is not allowed",
            c as u32
        ));
    }
    Ok(name)
}

/// Runs a `pixels` subcommand.
pub fn run(command: &PixelsCommand) -> Result<(), Failure> {
    match command {
        PixelsCommand::Add { name, db } => {
            let name = check_name(name).map_err(Failure::usage)?;
            let conn = store::open_rw(&db.db).map_err(Failure::runtime)?;
            loop {
                let id =
                    PixelId::from_random_bytes(random::bytes::<16>().map_err(Failure::runtime)?);
                let added = store::add_pixel(&conn, &id.to_string(), name, dates::now_ms())
                    .map_err(Failure::runtime)?;
                if added {
                    println!("{id}");
                    return Ok(());
                }
            }
        }
        PixelsCommand::List(args) => {
            let base =
                BaseUrl::parse(&args.base).map_err(|e| Failure::usage(format!("--base: {e}")))?;
            if !args.db.db.exists() {
                return Err(Failure::usage(format!(
                    "no database at {}",
                    args.db.db.display()
                )));
            }
            let conn = store::open_ro(&args.db.db).map_err(Failure::runtime)?;
            for (id, name) in store::pixels(&conn).map_err(Failure::runtime)? {
                let Ok(pixel) = PixelId::parse(&id) else {
                    continue;
                };
                let url = PixelUrl::new(pixel, EventType::PAGE_LOAD).base(base);
                println!("{id}\t{name}\t{}", ImgTag::new(&url));
            }
            Ok(())
        }
    }
}
