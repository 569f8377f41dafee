//! What every resource type implements, and the parts of plan, apply, read and import that
//! are the same for all of them: defaults, semantic JSON comparison, force-new attributes,
//! read-after-write, and turning errors into diagnostics.

use std::time::Duration;

use async_trait::async_trait;
use braid_provider::{
    AttributeType, Path, PlanResponse, ProviderDiagnostic, ResourceSchema, Use, Value,
};

use crate::attrs::Attrs;
use crate::config::Clients;
use crate::error::AwsError;
use crate::policy;

/// How often, and how far apart, a write is read back before it counts as missing: AWS is
/// eventually consistent (IAM in particular).
const READ_BACK_ATTEMPTS: u32 = 5;
const READ_BACK_DELAY: Duration = Duration::from_millis(500);

/// One AWS resource type. Implementations only talk to AWS; the shared logic is in this
/// module.
#[async_trait]
pub trait ResourceType: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> ResourceSchema;

    /// The value an optional attribute takes when the configuration leaves it null.
    fn default(&self, _attribute: &str) -> Option<Value> {
        None
    }

    /// Attributes holding JSON documents that compare by meaning (see [`policy`]).
    fn json_attributes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Attributes AWS does not store (`force_destroy`): read keeps them from state.
    fn state_only_attributes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Shapes planned settable values the way read reports them (sorted lists, null for
    /// disabled blocks) and checks them. Runs on known and unknown values alike.
    fn normalize(&self, _planned: &mut Attrs) -> Result<(), AwsError> {
        Ok(())
    }

    /// Computed attributes known at plan time from the settable ones (an id that is the name,
    /// an S3 ARN). The rest of the computed attributes are unknown until created.
    fn planned_computed(&self, _planned: &Attrs, _clients: &Clients) -> Attrs {
        Attrs::new()
    }

    /// Computed attributes an in-place update changes (a version number).
    fn computed_changed_by_update(&self, _prior: &Attrs, _planned: &Attrs) -> Vec<&'static str> {
        Vec::new()
    }

    /// The live attributes of the object `current` identifies, or `None` when it does not
    /// exist. `current` holds at least the identifying attributes (after an import only
    /// those).
    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError>;

    /// Creates the object; returns its identifying computed attributes (id, arn, url).
    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError>;

    /// Changes the object in place from `prior` to `desired` (force-new attributes are equal).
    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError>;

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError>;

    /// The identifying attributes for an import id.
    fn import_identity(&self, id: &str) -> Attrs;

    /// The live object a create of `desired` would collide with, when that is cheap to find.
    async fn find_existing(
        &self,
        _clients: &Clients,
        _desired: &Attrs,
    ) -> Result<Option<Attrs>, AwsError> {
        Ok(None)
    }
}

/// Plans `config` on top of `prior` (see [`crate`] docs for the rules).
pub async fn plan(
    resource: &dyn ResourceType,
    clients: &Clients,
    address: &str,
    prior: Option<&Value>,
    config: &Value,
) -> PlanResponse {
    let prior = prior.and_then(Value::as_map);
    let planned = match planned_settable(resource, prior, config) {
        Ok(planned) => planned,
        Err(diagnostics) => {
            return PlanResponse {
                diagnostics,
                ..PlanResponse::default()
            };
        }
    };
    let schema = resource.schema();
    let requires_replace: Vec<Path> = match prior {
        None => Vec::new(),
        Some(prior) => schema
            .attributes
            .iter()
            .filter(|(_, a)| a.force_new && a.settable())
            .filter(|(name, _)| {
                let now = planned.get(name).unwrap_or(&Value::Null);
                !now.is_wholly_known() || now != prior.get(name).unwrap_or(&Value::Null)
            })
            .map(|(name, _)| Path::key(name.clone()))
            .collect(),
    };
    let mut planned = planned;
    let known_computed = resource.planned_computed(&planned, clients);
    let changed_by_update = match prior {
        Some(prior) if requires_replace.is_empty() => {
            resource.computed_changed_by_update(prior, &planned)
        }
        _ => Vec::new(),
    };
    for (name, a) in &schema.attributes {
        if a.r#use != Use::Computed {
            continue;
        }
        let value = match (prior, known_computed.get(name)) {
            (_, Some(known)) => known.clone(),
            (Some(prior), None)
                if requires_replace.is_empty() && !changed_by_update.contains(&name.as_str()) =>
            {
                prior.get(name).cloned().unwrap_or(Value::Null)
            }
            _ => Value::Unknown,
        };
        planned.insert(name.clone(), value);
    }
    let mut diagnostics = Vec::new();
    let mut existing = None;
    if prior.is_none() {
        match resource.find_existing(clients, &planned).await {
            Ok(Some(found)) => existing = Some(Value::Map(finish_read(resource, &planned, found))),
            Ok(None) => {}
            Err(e) => diagnostics.push(e.diagnostic("planning", address)),
        }
    }
    PlanResponse {
        planned: Value::Map(planned),
        requires_replace,
        existing,
        diagnostics,
        ..PlanResponse::default()
    }
}

/// The settable attributes as they will be after apply: configuration, defaults for null
/// optional ones, numbers as integers, equivalent JSON kept as it was.
fn planned_settable(
    resource: &dyn ResourceType,
    prior: Option<&Attrs>,
    config: &Value,
) -> Result<Attrs, Vec<ProviderDiagnostic>> {
    let schema = resource.schema();
    let mut diags = Vec::new();
    let mut planned = Attrs::new();
    for (name, a) in &schema.attributes {
        if !a.settable() {
            continue;
        }
        let mut value = config.attr(name).cloned().unwrap_or(Value::Null);
        if value.is_null() {
            value = resource.default(name).unwrap_or(Value::Null);
        }
        // No tags and an empty map of tags are the same to AWS, which reads both back as
        // none: plan what the read will say.
        if name == "tags" && value.as_map().is_some_and(|m| m.is_empty()) {
            value = Value::Null;
        }
        if let Err(d) = check_type(name, a.r#type, &value) {
            diags.push(d);
            continue;
        }
        if a.r#type == AttributeType::Number
            && let Some(n) = value.as_i64()
        {
            value = Value::from_i64(n);
        }
        if resource.json_attributes().contains(&name.as_str())
            && let Value::String(text) = &value
        {
            if let Err(e) = policy::parse(text) {
                diags.push(
                    ProviderDiagnostic::error(
                        "Invalid JSON document",
                        format!("The attribute \"{name}\" must hold a JSON document: {e}."),
                    )
                    .at(Path::key(name.clone())),
                );
                continue;
            }
            if let Some(Value::String(before)) = prior.and_then(|p| p.get(name))
                && policy::equivalent(before, text)
            {
                value = Value::String(before.clone());
            }
        }
        planned.insert(name.clone(), value);
    }
    if let Err(e) = resource.normalize(&mut planned) {
        diags.push(e.diagnostic("planning", resource.type_name()));
    }
    if diags.is_empty() {
        Ok(planned)
    } else {
        Err(diags)
    }
}

fn check_type(
    name: &str,
    expected: AttributeType,
    value: &Value,
) -> Result<(), ProviderDiagnostic> {
    let ok = match (expected, value) {
        (_, Value::Null | Value::Unknown) | (AttributeType::Any, _) => true,
        (AttributeType::String, Value::String(_))
        | (AttributeType::Number, Value::Number(_))
        | (AttributeType::Bool, Value::Bool(_))
        | (AttributeType::List, Value::List(_))
        | (AttributeType::Map, Value::Map(_)) => true,
        // A single nested block of a map attribute arrives as a list of one map.
        (AttributeType::Map, Value::List(items)) => items.len() == 1 && items[0].as_map().is_some(),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let expected = match expected {
        AttributeType::String => "string",
        AttributeType::Number => "number",
        AttributeType::Bool => "bool",
        AttributeType::List => "list",
        AttributeType::Map => "map or block",
        AttributeType::Any => "value",
    };
    Err(ProviderDiagnostic::error(
        "Incorrect attribute value type",
        format!(
            "The attribute \"{name}\" must be a {expected}, but the given value is {}.",
            value.kind()
        ),
    )
    .at(Path::key(name)))
}

/// Reads the object behind `current` and shapes the result like a plan would.
pub async fn read(
    resource: &dyn ResourceType,
    clients: &Clients,
    current: &Attrs,
) -> Result<Option<Attrs>, AwsError> {
    Ok(resource
        .read(clients, current)
        .await?
        .map(|live| finish_read(resource, current, live)))
}

/// Fills what AWS does not report from `current`, keeps equivalent JSON documents in the
/// form `current` has them, and makes every schema attribute present.
fn finish_read(resource: &dyn ResourceType, current: &Attrs, mut live: Attrs) -> Attrs {
    for name in resource.state_only_attributes() {
        let kept = current
            .get(name)
            .filter(|v| !v.is_null() && !v.is_unknown())
            .cloned()
            .or_else(|| resource.default(name))
            .unwrap_or(Value::Null);
        live.insert((*name).to_string(), kept);
    }
    for name in resource.json_attributes() {
        if let (Some(Value::String(was)), Some(Value::String(now))) =
            (current.get(name), live.get(name))
            && policy::equivalent(was, now)
        {
            let was = was.clone();
            live.insert((*name).to_string(), Value::String(was));
        } else if let Some(Value::String(now)) = live.get(name) {
            let decoded = policy::decode(now);
            live.insert((*name).to_string(), Value::String(decoded));
        }
    }
    for name in resource.schema().attributes.keys() {
        live.entry(name.clone()).or_insert(Value::Null);
    }
    live
}

/// Reads an object just written, waiting a little for AWS to make it visible.
async fn read_back(
    resource: &dyn ResourceType,
    clients: &Clients,
    current: &Attrs,
    operation: &'static str,
) -> Result<Attrs, AwsError> {
    for attempt in 0..READ_BACK_ATTEMPTS {
        if let Some(state) = read(resource, clients, current).await? {
            return Ok(state);
        }
        if attempt + 1 < READ_BACK_ATTEMPTS {
            tokio::time::sleep(READ_BACK_DELAY).await;
        }
    }
    Err(AwsError::MissingAfterWrite { operation })
}

/// The values apply works with: the plan, with anything still unknown taken from the
/// configuration (which the engine resolves fully before apply).
pub fn desired(
    resource: &dyn ResourceType,
    prior: Option<&Value>,
    planned: &Value,
    config: &Value,
) -> Result<Attrs, Vec<ProviderDiagnostic>> {
    let from_config = planned_settable(resource, prior.and_then(Value::as_map), config)?;
    let mut desired = planned.as_map().cloned().unwrap_or_default();
    for (name, value) in from_config {
        let known = desired.get(&name).is_some_and(Value::is_wholly_known);
        if !known {
            desired.insert(name, value);
        }
    }
    Ok(desired)
}

/// Creates the object and reads it back. On failure, whatever exists is returned with the
/// error so that a half-made object is kept in state.
pub async fn create(
    resource: &dyn ResourceType,
    clients: &Clients,
    desired: &Attrs,
) -> Result<Attrs, (Option<Attrs>, AwsError)> {
    match resource.create(clients, desired).await {
        Ok(identity) => {
            let mut current = desired.clone();
            current.extend(identity);
            read_back(resource, clients, &current, "create")
                .await
                .map_err(|e| (None, e))
        }
        Err(e) => {
            let existing = read(resource, clients, desired).await.ok().flatten();
            Err((existing, e))
        }
    }
}

/// Updates in place and reads back. On failure the object as it is now is returned.
pub async fn update(
    resource: &dyn ResourceType,
    clients: &Clients,
    prior: &Attrs,
    desired: &Attrs,
) -> Result<Attrs, (Option<Attrs>, AwsError)> {
    // Identity comes from the prior state; settable values from the plan.
    let mut current = prior.clone();
    current.extend(
        desired
            .iter()
            .filter(|(_, v)| !v.is_unknown())
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    match resource.update(clients, prior, &current).await {
        Ok(()) => read_back(resource, clients, &current, "update")
            .await
            .map_err(|e| (Some(prior.clone()), e)),
        Err(e) => {
            let now = read(resource, clients, prior)
                .await
                .ok()
                .flatten()
                .or_else(|| Some(prior.clone()));
            Err((now, e))
        }
    }
}
