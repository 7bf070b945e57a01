//! `dtpixel report --db … [--format table|json|csv]`: the collector's report on the command line.

use clap::{Args, ValueEnum};
use dtpixel::PixelId;

use crate::serve::parse_events;
use crate::store::DayRange;
use crate::{dates, report, report_text, store, DbArgs, Failure};

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// An aligned table.
    Table,
    /// The JSON of /api/report.
    Json,
    /// CSV with a header line.
    Csv,
}

/// The options of `dtpixel report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Only this creator.
    #[arg(long)]
    pixel_id: Option<String>,
    /// First day, YYYY-MM-DD (UTC).
    #[arg(long)]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (UTC).
    #[arg(long)]
    to: Option<String>,
    /// The event types reported, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "page_load,add_to_cart")]
    events: Vec<String>,
}

/// Prints the report.
pub fn run(args: &ReportArgs) -> Result<(), Failure> {
    let events = parse_events(&args.events)?;
    let pixel = args
        .pixel_id
        .as_deref()
        .map(PixelId::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("--pixel-id: {e}")))?;
    let mut range = DayRange::default();
    if let Some(from) = &args.from {
        dates::parse_day(from).map_err(|e| Failure::usage(format!("--from: {e}")))?;
        range.from = from.clone();
    }
    if let Some(to) = &args.to {
        dates::parse_day(to).map_err(|e| Failure::usage(format!("--to: {e}")))?;
        range.to = to.clone();
    }
    if range.from > range.to {
        return Err(Failure::usage(format!(
            "--from {} is after --to {}",
            range.from, range.to
        )));
    }
    if !args.db.db.exists() {
        return Err(Failure::usage(format!(
            "no database at {} (dtpixel serve --db {} creates it)",
            args.db.db.display(),
            args.db.db.display()
        )));
    }
    let conn = store::open_ro(&args.db.db).map_err(Failure::runtime)?;
    let report = report::build(&conn, &events, &range, pixel)
        .map_err(|e| Failure::runtime(format!("database {}: {e}", args.db.db.display())))?;
    let out = match args.format {
        Format::Table => report_text::table(&report),
        Format::Csv => report_text::csv(&report),
        Format::Json => {
            let mut json = serde_json::to_string(&report).map_err(Failure::runtime)?;
            json.push('\n');
            json
        }
    };
    print!("{out}");
    Ok(())
}
