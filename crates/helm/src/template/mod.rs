//! Go's `text/template`: the parser and the executor.

pub mod exec;
pub mod parse;
