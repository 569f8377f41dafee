//! braid's built-in `kubernetes` provider.
//!
//! One resource type, `kubernetes_manifest`: any Kubernetes object, given as its whole
//! manifest. The provider
//!
//! - **plans** with a server-side apply dry-run (`dryRun=All`, field manager `braid`) of the
//!   manifest against the live object, so defaulting, validation, immutable fields
//!   (→ replace) and ownership conflicts come from the API server itself;
//! - records as **state** only what braid manages: `apiVersion`, `kind`, name, namespace and
//!   the fields its field manager owns (`metadata.managedFields`), with live values, plus `id`
//!   (`GROUP/VERSION/KIND/NAMESPACE/NAME`) and `braid.uid`. Status and server defaults never
//!   enter state, so a plan with nothing changed is a no-op and out-of-band edits of braid's
//!   fields show up as drift;
//! - **applies** with server-side apply, resolving conflicts by the rule in `ssa.rs` (drift in
//!   braid's own fields is taken back; fields braid never owned need `force_conflicts`);
//! - **deletes** in the foreground and waits until the object is gone;
//! - **waits** for health by kstatus rules (`ready.rs`), watching rather than polling;
//! - retries transient API failures (5xx, 429 with `Retry-After`, dropped connections).
//!
//! See docs/kubernetes.md for the user-facing description.

#![warn(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod apply;
mod capabilities;
mod cluster;
mod desired;
mod error;
mod fields;
mod hooks;
pub mod names;
mod object;
mod order;
mod plan;
mod provider;
mod read;
mod ready;
mod retry;
mod schema;
mod settings;
mod ssa;
mod watch;

pub use capabilities::{ClusterCapabilities, cluster_capabilities, openapi_v3};
pub use error::{KubeError, ManifestError, Step};
pub use hooks::{DELETE_AFTER_ANNOTATION, RECREATE_TOKEN_ANNOTATION};
pub use provider::KubernetesProvider;
pub use ready::TIMEOUT_ANNOTATION;
pub use schema::MANIFEST_TYPE;
pub use settings::{DEFAULT_FIELD_MANAGER, DEFAULT_NAMESPACE, Settings};
