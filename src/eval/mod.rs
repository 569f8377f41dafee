//! Evaluating a loaded configuration: the scope resource bodies, locals and outputs are
//! evaluated against during plan and apply, and the expansion of `count`/`for_each`
//! resources into their instances.

pub mod expand;
pub mod modules;
mod scope;
pub mod secrets;

pub use scope::{EvalScope, condition_message};
