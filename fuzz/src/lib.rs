//! Fuzz targets for faultline; see fuzz/README.md.

#[path = "targets.rs"]
pub mod targets;
