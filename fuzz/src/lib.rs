//! Fuzz targets for faultline: how to run them is in fuzz/run.sh, what they
//! check in docs/security.md.

#[path = "targets.rs"]
pub mod targets;
