//! The browser benchmark (bundle bytes and time to pixel).

use super::report::Section;
use super::Mode;

/// Runs the browser benchmarks and returns the report section.
pub fn run(_mode: Mode) -> Result<Section, String> {
    Err("not written yet".into())
}
