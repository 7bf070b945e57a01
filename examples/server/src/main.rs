//! `dtpixel`: pixel URLs, tags and hit parsing on the command line, and the collector
//! (`dtpixel serve`) that records hits in SQLite and reports traffic and cart conversion
//! per creator.
//!
//! Every invalid input exits with status 2 and one line `error: …` on stderr, nothing on stdout.

mod checkpoint;
mod cli_inline_tag;
mod cli_pixel;
mod cli_pixels;
mod cli_report;
mod client_ip;
mod dates;
mod demo;
mod filter;
mod hit_handler;
mod html;
mod random;
mod report;
mod report_api;
mod report_html;
mod report_text;
mod roller;
mod serve;
mod store;
mod visitor;
mod wal_sync;
mod writer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Pixel URLs, tags and hit parsing, and the dtpixel collector.
#[derive(Debug, Parser)]
#[command(name = "dtpixel", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the pixel URL for a creator and event.
    Url(cli_pixel::UrlArgs),
    /// Print the hidden <img> tag for a creator and event.
    Tag(cli_pixel::TagArgs),
    /// Print the inline <script> for a shop's pages: fires the landing's page_load at once and
    /// loads auto.js for the rest.
    InlineTag(cli_inline_tag::InlineTagArgs),
    /// Parse a pixel URL or request target and print it as one line of JSON.
    Parse {
        /// A full URL (https://dttrk.com/pixel/…) or a request target (/pixel/…?…).
        url_or_target: String,
    },
    /// Run the collector: record pixel hits in SQLite and serve the reports.
    Serve(serve::ServeArgs),
    /// Print the per-creator report of a database.
    Report(cli_report::ReportArgs),
    /// Manage creators (named pixel ids).
    Pixels {
        #[command(subcommand)]
        command: cli_pixels::PixelsCommand,
    },
}

/// Options naming the database, shared by `serve`, `report` and `pixels`.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// The SQLite database file (created when missing).
    #[arg(long, default_value = "./dtpixel.db")]
    pub db: PathBuf,
}

/// A command's failure: printed as `error: …`, exit status 2 for bad input, 1 otherwise.
#[derive(Debug)]
pub enum Failure {
    /// The input is invalid (exit status 2).
    Usage(String),
    /// Something went wrong while running (exit status 1).
    Runtime(String),
}

impl Failure {
    /// Invalid input.
    pub fn usage(message: impl std::fmt::Display) -> Self {
        Failure::Usage(message.to_string())
    }

    /// A failure while running.
    pub fn runtime(message: impl std::fmt::Display) -> Self {
        Failure::Runtime(message.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_failure(e),
    };
    let result = match cli.command {
        Command::Url(args) => cli_pixel::url(&args),
        Command::Tag(args) => cli_pixel::tag(&args),
        Command::InlineTag(args) => cli_inline_tag::inline_tag(&args),
        Command::Parse { url_or_target } => cli_pixel::parse(&url_or_target),
        Command::Serve(args) => serve::run(args),
        Command::Report(args) => cli_report::run(&args),
        Command::Pixels { command } => cli_pixels::run(&command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {}", one_line(&message));
            ExitCode::from(2)
        }
        Err(Failure::Runtime(message)) => {
            eprintln!("error: {}", one_line(&message));
            ExitCode::from(1)
        }
    }
}

/// Help and version go to stdout with status 0; every other clap error is invalid input:
/// status 2 and only clap's first line (`error: …`), without the usage that follows it.
fn clap_failure(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            print!("{}", e.render());
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("error: a subcommand is required (try: dtpixel --help)");
            ExitCode::from(2)
        }
        _ => {
            // clap's message is its first paragraph (a list such as the missing arguments
            // continues on indented lines); the usage and hints after it are left out.
            let rendered = e.render().to_string();
            let paragraph: Vec<&str> = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let message = paragraph.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            let message = if message.is_empty() {
                "invalid arguments"
            } else {
                message
            };
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn one_line(message: &str) -> String {
    message.replace(['\n', '\r'], " ")
}
