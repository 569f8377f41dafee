//! The provider protocol of braid.
//!
//! Everything a provider and the engine exchange lives here: the dynamic [`Value`] type
//! (with *unknown* values that are only known after apply), attribute [`Path`]s, resource
//! [`ResourceSchema`]s, and the request/response shaped [`Provider`] trait. The crate does no
//! IO. Start with [`Provider`]: its documentation is the contract every provider keeps.

#![warn(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod diagnostic;
mod duration;
pub mod json;
pub mod number;
mod path;
mod protocol;
mod schema;
mod value;
pub mod value_map;

pub use diagnostic::{ProviderDiagnostic, Severity};
pub use duration::{duration_setting, parse_duration};
pub use number::{NumberError, TfNumber};
pub use path::{Path, PathStep};
pub use protocol::{
    ApplyRequest, ApplyResponse, Health, HealthStatus, ImportRequest, ImportResponse, MoveRequest,
    MoveResponse, ObjectMeta, PlanRequest, PlanResponse, Progress, Provider, ReadDataRequest,
    ReadDataResponse, ReadRequest, ReadResponse, RunContext, WaitRequest, WaitResponse,
};
pub use schema::{AttributeSchema, AttributeType, ProviderSchema, ResourceSchema, Use};
pub use value::{Value, ValueKind};
pub use value_map::ValueMap;
