//! Configuration: the project file (`braid.hcl`) and the resource files (`*.hcl`, `*.tf`) of
//! sources, parsed with hcl-edit so every expression keeps its place in the file.

mod body;
mod duration;

pub mod eval;
pub mod format;
mod module;
pub mod notify;
mod project;
pub mod references;
mod template;
pub mod terraform_block;
mod tf_json;
mod types;
pub mod validation;
mod variables;
pub mod window;

pub use body::{Attribute, ConfigBody, NestedBlock};
pub use duration::{format_duration, parse_duration};
pub use module::{
    CheckDecl, Condition, ExpandedCall, ImportDecl, Instance, InstanceKey, Lifecycle, LocalDecl,
    ManifestBody, Module, ModuleCall, ModuleInstance, MovedDecl, OutputDecl, ProviderDecl,
    RemovedDecl, RepeatedResource, Repetition, ResourceBody, ResourceDecl, Validation,
    VariableDecl, config_resource_address, is_module_address, is_resource_address, load_module,
    resource_groups, split_instance_address, split_module_prefix, within_module,
};
pub use project::{
    DriftSettings, EncryptionConfig, EnvironmentConfig, HELM_ATTRIBUTES, HelmBlock,
    PLAIN_NAME_RULE, PROJECT_FILE, PluginSettings, PolicyConfig, Project, ProviderConfig,
    ServerAuth, SourceConfig, StateConfig, helm_block_value, load_project, plain_name_problem,
};
pub use template::{TemplateField, TemplatePart};
pub use types::{ObjectAttribute, TypeConstraint};
pub use variables::{VarFile, VariableInputs, parse_var_file, resolve_variables};

/// For every resource (by address as configured), the resources it needs; sets are shared
/// between resources that need the same ones (every instance of a repeated block).
pub type Dependencies =
    std::collections::BTreeMap<String, std::sync::Arc<std::collections::BTreeSet<String>>>;

/// The provider that serves a resource type: the text before the first `_`
/// (`aws_s3_bucket` → `aws`), as in Terraform.
pub fn provider_of(type_name: &str) -> &str {
    type_name.split('_').next().unwrap_or(type_name)
}
