//! Shared helpers for the cross-crate tests.

pub mod browser;
pub mod collector;
pub mod recording_server;
