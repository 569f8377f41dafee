//! The managed resource and data source calls of the protocol: validate, upgrade, read,
//! plan, apply, import, move, and reading data sources. Values are MessagePack
//! ([`rmpv::Value`]) as the wire carries them; [`crate::cty`] converts them to and from
//! braid's values with the schema's types.

use crate::diagnostics::{Diagnostic, PathStep, path_steps};
use crate::plugin::{CallError, ProviderPlugin, decode_dynamic, msgpack_value};
use crate::proto::tfplugin5 as pb;

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
/// attributes yet.
fn client_capabilities() -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: false,
    })
}

fn diagnostics(list: Vec<pb::Diagnostic>) -> Vec<Diagnostic> {
    list.into_iter().map(Diagnostic::from).collect()
}

/// A deferral braid did not allow, as an error diagnostic (a provider that defers anyway
/// would otherwise look like it succeeded without a result).
fn refuse_deferral(deferred: Option<pb::Deferred>, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(deferred) = deferred {
        diagnostics.push(Diagnostic {
            severity: crate::Severity::Error,
            summary: "Provider deferred the change".to_owned(),
            detail: format!(
                "The provider deferred this call ({:?}), which braid did not allow: make the values it depends on known (apply their resources first) and run again.",
                deferred.reason()
            ),
            attribute_path: Vec::new(),
        });
    }
}

impl ProviderPlugin {
    /// ValidateResourceTypeConfig: the provider's own checks of a resource's configuration.
    pub async fn validate_resource_config(
        &self,
        type_name: &str,
        config: &rmpv::Value,
    ) -> Result<Vec<Diagnostic>, CallError> {
        let result = self
            .client()
            .validate_resource_type_config(pb::validate_resource_type_config::Request {
                type_name: type_name.to_owned(),
                config: Some(msgpack_value(config)),
                client_capabilities: client_capabilities(),
            })
            .await;
        let response = self.answer("ValidateResourceConfig", result).await?;
        Ok(diagnostics(response.diagnostics))
    }

    /// ValidateDataSourceConfig: the provider's own checks of a data source's configuration.
    pub async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: &rmpv::Value,
    ) -> Result<Vec<Diagnostic>, CallError> {
        let result = self
            .client()
            .validate_data_source_config(pb::validate_data_source_config::Request {
                type_name: type_name.to_owned(),
                config: Some(msgpack_value(config)),
            })
            .await;
        let response = self.answer("ValidateDataResourceConfig", result).await?;
        Ok(diagnostics(response.diagnostics))
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
        let result = self
            .client()
            .upgrade_resource_state(pb::upgrade_resource_state::Request {
                type_name: type_name.to_owned(),
                version,
                raw_state: Some(pb::RawState {
                    json: state_json,
                    flatmap: Default::default(),
                }),
            })
            .await;
        let response = self.answer(CALL, result).await?;
        Ok(NewState {
            state: decode_dynamic(CALL, response.upgraded_state)?,
            private: Vec::new(),
            diagnostics: diagnostics(response.diagnostics),
        })
    }

    /// ReadResource: the object as it is now (refresh); a nil state means it is gone.
    pub async fn read_resource(
        &self,
        type_name: &str,
        current_state: &rmpv::Value,
        private: &[u8],
    ) -> Result<NewState, CallError> {
        const CALL: &str = "ReadResource";
        let result = self
            .client()
            .read_resource(pb::read_resource::Request {
                type_name: type_name.to_owned(),
                current_state: Some(msgpack_value(current_state)),
                private: private.to_vec(),
                provider_meta: None,
                client_capabilities: client_capabilities(),
            })
            .await;
        let response = self.answer(CALL, result).await?;
        let mut diagnostics = diagnostics(response.diagnostics);
        refuse_deferral(response.deferred, &mut diagnostics);
        Ok(NewState {
            state: decode_dynamic(CALL, response.new_state)?,
            private: response.private,
            diagnostics,
        })
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
        let result = self
            .client()
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: type_name.to_owned(),
                prior_state: Some(msgpack_value(prior)),
                proposed_new_state: Some(msgpack_value(proposed)),
                config: Some(msgpack_value(config)),
                prior_private: prior_private.to_vec(),
                provider_meta: None,
                client_capabilities: client_capabilities(),
            })
            .await;
        let response = self.answer(CALL, result).await?;
        let mut diagnostics = diagnostics(response.diagnostics);
        refuse_deferral(response.deferred, &mut diagnostics);
        Ok(PlannedChange {
            planned_state: decode_dynamic(CALL, response.planned_state)?,
            requires_replace: response
                .requires_replace
                .into_iter()
                .map(path_steps)
                .collect(),
            planned_private: response.planned_private,
            legacy_type_system: response.legacy_type_system,
            diagnostics,
        })
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
        let result = self
            .client()
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: type_name.to_owned(),
                prior_state: Some(msgpack_value(prior)),
                planned_state: Some(msgpack_value(planned)),
                config: Some(msgpack_value(config)),
                planned_private: planned_private.to_vec(),
                provider_meta: None,
            })
            .await;
        let response = self.answer(CALL, result).await?;
        Ok(NewState {
            state: decode_dynamic(CALL, response.new_state)?,
            private: response.private,
            diagnostics: diagnostics(response.diagnostics),
        })
    }

    /// ImportResourceState: the objects an import id names (read them with ReadResource
    /// afterwards, as Terraform does, to fill in their state).
    pub async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
    ) -> Result<Imported, CallError> {
        const CALL: &str = "ImportResourceState";
        let result = self
            .client()
            .import_resource_state(pb::import_resource_state::Request {
                type_name: type_name.to_owned(),
                id: id.to_owned(),
                client_capabilities: client_capabilities(),
            })
            .await;
        let response = self.answer(CALL, result).await?;
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
        let result = self
            .client()
            .move_resource_state(pb::move_resource_state::Request {
                source_provider_address: source_provider_address.to_owned(),
                source_type_name: source_type_name.to_owned(),
                source_schema_version,
                source_state: Some(pb::RawState {
                    json: source_state_json,
                    flatmap: Default::default(),
                }),
                target_type_name: target_type_name.to_owned(),
                source_private: source_private.to_vec(),
            })
            .await;
        let response = self.answer(CALL, result).await?;
        Ok(NewState {
            state: decode_dynamic(CALL, response.target_state)?,
            private: response.target_private,
            diagnostics: diagnostics(response.diagnostics),
        })
    }

    /// ReadDataSource: the data source's result for a (wholly known) configuration.
    pub async fn read_data_source(
        &self,
        type_name: &str,
        config: &rmpv::Value,
    ) -> Result<NewState, CallError> {
        const CALL: &str = "ReadDataSource";
        let result = self
            .client()
            .read_data_source(pb::read_data_source::Request {
                type_name: type_name.to_owned(),
                config: Some(msgpack_value(config)),
                provider_meta: None,
                client_capabilities: client_capabilities(),
            })
            .await;
        let response = self.answer(CALL, result).await?;
        let mut diagnostics = diagnostics(response.diagnostics);
        refuse_deferral(response.deferred, &mut diagnostics);
        Ok(NewState {
            state: decode_dynamic(CALL, response.state)?,
            private: Vec::new(),
            diagnostics,
        })
    }
}
