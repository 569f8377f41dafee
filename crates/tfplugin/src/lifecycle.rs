//! The managed resource and data source calls of the protocol: validate, upgrade, read,
//! plan, apply, import, move, and reading data sources. Values are MessagePack
//! ([`rmpv::Value`]) as the wire carries them; [`crate::cty`] converts them to and from
//! braid's values with the schema's types.

use crate::diagnostics::{Diagnostic, PathStep};
use crate::plugin::{CallError, ProviderPlugin, decode_dynamic, msgpack_value};
use crate::proto::{Deferral, rpc};

/// A resource's state as a provider returns it from a read, an apply or an upgrade.
#[derive(Debug, Clone, PartialEq)]
pub struct NewState {
    /// The state object (nil when the object is gone: read found nothing, apply destroyed).
    pub state: rmpv::Value,
    /// The provider's private data for this object, to send back with the next call.
    pub private: Vec<u8>,
    /// The provider's findings; an error means the call failed.
    pub diagnostics: Vec<Diagnostic>,
}

/// What PlanResourceChange answered.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChange {
    /// The state the provider expects after apply; unknown where it cannot tell yet.
    pub planned_state: rmpv::Value,
    /// Attributes whose change forces the object to be replaced.
    pub requires_replace: Vec<Vec<PathStep>>,
    /// Private data to send with ApplyResourceChange.
    pub planned_private: Vec<u8>,
    /// Set by providers on Terraform's legacy SDK: their plans and results may differ from
    /// configuration in ways Terraform tolerates (and reports only in its logs).
    pub legacy_type_system: bool,
    /// The provider's findings; an error means the plan failed.
    pub diagnostics: Vec<Diagnostic>,
}

/// One object ImportResourceState found.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedResource {
    /// Its resource type (usually the one asked for).
    pub type_name: String,
    /// Its state.
    pub state: rmpv::Value,
    /// The provider's private data.
    pub private: Vec<u8>,
}

/// What ImportResourceState answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The objects found (none after errors).
    pub resources: Vec<ImportedResource>,
    /// The provider's findings.
    pub diagnostics: Vec<Diagnostic>,
}

/// What braid tells providers it can handle: neither deferred changes nor write-only
/// attributes yet (every capability false: the message's default).
fn client_capabilities<C: Default>() -> Option<C> {
    Some(C::default())
}

fn diagnostics<D: Into<Diagnostic>>(list: Vec<D>) -> Vec<Diagnostic> {
    list.into_iter().map(Into::into).collect()
}

/// A deferral braid did not allow, as an error diagnostic (a provider that defers anyway
/// would otherwise look like it succeeded without a result).
fn refuse_deferral(deferred: Option<impl Into<Deferral>>, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(deferred) = deferred {
        let Deferral(reason) = deferred.into();
        diagnostics.push(Diagnostic {
            severity: crate::Severity::Error,
            summary: "Provider deferred the change".to_owned(),
            detail: format!(
                "The provider deferred this call ({reason}), which braid did not allow: make the values it depends on known (apply their resources first) and run again."
            ),
            attribute_path: Vec::new(),
        });
    }
}

impl ProviderPlugin {
    /// ValidateResourceConfig (`ValidateResourceTypeConfig` in protocol 5): the provider's
    /// own checks of a resource's configuration.
    pub async fn validate_resource_config(
        &self,
        type_name: &str,
        config: &rmpv::Value,
    ) -> Result<Vec<Diagnostic>, CallError> {
        rpc!(
            self,
            "ValidateResourceConfig",
            validate_resource_type_config / validate_resource_config,
            |pb| pb::validate_resource_type_config::Request {
                type_name: type_name.to_owned(),
                config: Some(msgpack_value(config)),
                client_capabilities: client_capabilities(),
            },
            |response| Ok(diagnostics(response.diagnostics))
        )
    }

    /// ValidateDataResourceConfig (`ValidateDataSourceConfig` in protocol 5): the provider's
    /// own checks of a data source's configuration.
    pub async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: &rmpv::Value,
    ) -> Result<Vec<Diagnostic>, CallError> {
        rpc!(
            self,
            "ValidateDataResourceConfig",
            validate_data_source_config / validate_data_resource_config,
            |pb| pb::validate_data_source_config::Request {
                type_name: type_name.to_owned(),
                config: Some(msgpack_value(config)),
            },
            |response| Ok(diagnostics(response.diagnostics))
        )
    }

    /// UpgradeResourceState: a state stored as JSON under schema `version`, in the current
    /// schema's shape.
    pub async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        state_json: Vec<u8>,
    ) -> Result<NewState, CallError> {
        const CALL: &str = "UpgradeResourceState";
        rpc!(
            self,
            CALL,
            upgrade_resource_state / upgrade_resource_state,
            |pb| pb::upgrade_resource_state::Request {
                type_name: type_name.to_owned(),
                version,
                raw_state: Some(pb::RawState {
                    json: state_json,
                    flatmap: Default::default(),
                }),
            },
            |response| Ok(NewState {
                state: decode_dynamic(CALL, response.upgraded_state)?,
                private: Vec::new(),
                diagnostics: diagnostics(response.diagnostics),
            })
        )
    }

    /// ReadResource: the object as it is now (refresh); a nil state means it is gone.
    pub async fn read_resource(
        &self,
        type_name: &str,
        current_state: &rmpv::Value,
        private: &[u8],
    ) -> Result<NewState, CallError> {
        const CALL: &str = "ReadResource";
        rpc!(
            self,
            CALL,
            read_resource / read_resource,
            |pb| pb::read_resource::Request {
                type_name: type_name.to_owned(),
                current_state: Some(msgpack_value(current_state)),
                private: private.to_vec(),
                provider_meta: None,
                client_capabilities: client_capabilities(),
            },
            |response| {
                let mut diagnostics = diagnostics(response.diagnostics);
                refuse_deferral(response.deferred, &mut diagnostics);
                Ok(NewState {
                    state: decode_dynamic(CALL, response.new_state)?,
                    private: response.private,
                    diagnostics,
                })
            }
        )
    }

    /// PlanResourceChange: `prior` is nil to create, `proposed` nil to destroy.
    pub async fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &rmpv::Value,
        proposed: &rmpv::Value,
        config: &rmpv::Value,
        prior_private: &[u8],
    ) -> Result<PlannedChange, CallError> {
        const CALL: &str = "PlanResourceChange";
        rpc!(
            self,
            CALL,
            plan_resource_change / plan_resource_change,
            |pb| pb::plan_resource_change::Request {
                type_name: type_name.to_owned(),
                prior_state: Some(msgpack_value(prior)),
                proposed_new_state: Some(msgpack_value(proposed)),
                config: Some(msgpack_value(config)),
                prior_private: prior_private.to_vec(),
                provider_meta: None,
                client_capabilities: client_capabilities(),
            },
            |response| {
                let mut diagnostics = diagnostics(response.diagnostics);
                refuse_deferral(response.deferred, &mut diagnostics);
                Ok(PlannedChange {
                    planned_state: decode_dynamic(CALL, response.planned_state)?,
                    requires_replace: response
                        .requires_replace
                        .into_iter()
                        .map(Vec::from)
                        .collect(),
                    planned_private: response.planned_private,
                    legacy_type_system: response.legacy_type_system,
                    diagnostics,
                })
            }
        )
    }

    /// ApplyResourceChange: makes the planned change; a nil `planned` destroys the object.
    pub async fn apply_resource_change(
        &self,
        type_name: &str,
        prior: &rmpv::Value,
        planned: &rmpv::Value,
        config: &rmpv::Value,
        planned_private: &[u8],
    ) -> Result<NewState, CallError> {
        const CALL: &str = "ApplyResourceChange";
        rpc!(
            self,
            CALL,
            apply_resource_change / apply_resource_change,
            |pb| pb::apply_resource_change::Request {
                type_name: type_name.to_owned(),
                prior_state: Some(msgpack_value(prior)),
                planned_state: Some(msgpack_value(planned)),
                config: Some(msgpack_value(config)),
                planned_private: planned_private.to_vec(),
                provider_meta: None,
            },
            |response| Ok(NewState {
                state: decode_dynamic(CALL, response.new_state)?,
                private: response.private,
                diagnostics: diagnostics(response.diagnostics),
            })
        )
    }

    /// ImportResourceState: the objects an import id names (read them with ReadResource
    /// afterwards, as Terraform does, to fill in their state).
    pub async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> Result<Imported, CallError> {
        const CALL: &str = "ImportResourceState";
        rpc!(
            self,
            CALL,
            import_resource_state / import_resource_state,
            |pb| pb::import_resource_state::Request {
                type_name: type_name.to_owned(),
                id: id.to_owned(),
                client_capabilities: client_capabilities(),
            },
            |response| {
                let mut diagnostics = diagnostics(response.diagnostics);
                refuse_deferral(response.deferred, &mut diagnostics);
                let resources = response
                    .imported_resources
                    .into_iter()
                    .map(|r| {
                        Ok(ImportedResource {
                            type_name: r.type_name,
                            state: decode_dynamic(CALL, r.state)?,
                            private: r.private,
                        })
                    })
                    .collect::<Result<_, CallError>>()?;
                Ok(Imported {
                    resources,
                    diagnostics,
                })
            }
        )
    }

    /// MoveResourceState: an object of another type (or provider) as this type, for `moved`
    /// blocks across types; only when the provider's capabilities offer it.
    pub async fn move_resource_state(
        &self,
        source_provider_address: &str,
        source_type_name: &str,
        source_schema_version: i64,
        source_state_json: Vec<u8>,
        target_type_name: &str,
        source_private: &[u8],
    ) -> Result<NewState, CallError> {
        const CALL: &str = "MoveResourceState";
        rpc!(
            self,
            CALL,
            move_resource_state / move_resource_state,
            |pb| pb::move_resource_state::Request {
                source_provider_address: source_provider_address.to_owned(),
                source_type_name: source_type_name.to_owned(),
                source_schema_version,
                source_state: Some(pb::RawState {
                    json: source_state_json,
                    flatmap: Default::default(),
                }),
                target_type_name: target_type_name.to_owned(),
                source_private: source_private.to_vec(),
            },
            |response| Ok(NewState {
                state: decode_dynamic(CALL, response.target_state)?,
                private: response.target_private,
                diagnostics: diagnostics(response.diagnostics),
            })
        )
    }

    /// ReadDataSource: the data source's result for a (wholly known) configuration.
    pub async fn read_data_source(
        &self,
        type_name: &str,
        config: &rmpv::Value,
    ) -> Result<NewState, CallError> {
        const CALL: &str = "ReadDataSource";
        rpc!(
            self,
            CALL,
            read_data_source / read_data_source,
            |pb| pb::read_data_source::Request {
                type_name: type_name.to_owned(),
                config: Some(msgpack_value(config)),
                provider_meta: None,
                client_capabilities: client_capabilities(),
            },
            |response| {
                let mut diagnostics = diagnostics(response.diagnostics);
                refuse_deferral(response.deferred, &mut diagnostics);
                Ok(NewState {
                    state: decode_dynamic(CALL, response.state)?,
                    private: Vec::new(),
                    diagnostics,
                })
            }
        )
    }
}
