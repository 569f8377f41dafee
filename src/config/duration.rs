//! Durations as flags and environment variables write them: `0`, `45`, `500ms`, `30s`,
//! `5m`, `1h`, `1h30m` (one parser for braid and its providers).

pub use braid_provider::parse_duration;
