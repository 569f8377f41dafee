//! What the provider does. `braidtest_service` objects are JSON files `<directory>/<id>.json`
//! holding the object's state; the id is `svc-<name>`, so the same configuration gives the
//! same files whichever tool applies it.
//!
//! Planning fills in the optional+computed defaults (`replicas` from the provider's
//! `default_replicas` or 1, `endpoint.port` 443, `routes[*].weight` 100, `ports[*].protocol`
//! "tcp"), computes `url` when its inputs are known, plans `id` and `backends[*].healthy` as
//! unknown on create, counts `generation` up on every change, and asks for replacement
//! when `name` changes. Validation refuses names that are not lowercase DNS labels and
//! negative `replicas`, with the attribute's path.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rmpv::Value;
use tonic::{Request, Response, Status};

use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider;
use crate::schema;
use crate::values::{
    as_number, for_each_element, from_json, get, is_unknown, set, to_json, unknown,
};

#[derive(Default)]
pub struct BraidTest {
    config: Mutex<Option<Configured>>,
}

#[derive(Clone)]
struct Configured {
    directory: PathBuf,
    default_replicas: i64,
}

type Answer<T> = Result<Response<T>, Status>;

/// Appends `call type_name` to the file `BRAIDTEST_CALL_LOG` names, when set, so tests can
/// count the calls a tool makes.
fn log_call(call: &str, type_name: &str) {
    use std::io::Write;
    let Some(path) = std::env::var_os("BRAIDTEST_CALL_LOG") else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{call} {type_name}");
    }
}

fn decode(value: Option<pb::DynamicValue>) -> Result<Value, Status> {
    let Some(value) = value else {
        return Ok(Value::Nil);
    };
    if value.msgpack.is_empty() {
        return Ok(Value::Nil);
    }
    rmpv::decode::read_value(&mut value.msgpack.as_slice())
        .map_err(|e| Status::invalid_argument(format!("not MessagePack: {e}")))
}

fn encode(value: &Value) -> Option<pb::DynamicValue> {
    let mut msgpack = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut msgpack, value);
    Some(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

fn error(summary: &str, detail: String, path: &[&str]) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: pb::diagnostic::Severity::Error as i32,
        summary: summary.to_owned(),
        detail,
        attribute: (!path.is_empty()).then(|| attribute_path(path)),
    }
}

fn warning(summary: &str, detail: String, path: &[&str]) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: pb::diagnostic::Severity::Warning as i32,
        ..error(summary, detail, path)
    }
}

fn attribute_path(path: &[&str]) -> pb::AttributePath {
    pb::AttributePath {
        steps: path
            .iter()
            .map(|name| pb::attribute_path::Step {
                selector: Some(pb::attribute_path::step::Selector::AttributeName(
                    (*name).to_owned(),
                )),
            })
            .collect(),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl BraidTest {
    fn configured(&self) -> Result<Configured, Status> {
        self.config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Status::failed_precondition("the provider is not configured"))
    }
}

impl Configured {
    fn file(&self, id: &str) -> PathBuf {
        self.directory.join(format!("{id}.json"))
    }

    fn read(&self, id: &str) -> Result<Option<Value>, String> {
        let path = self.file(id);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        Ok(Some(complete(from_json(&json))))
    }

    fn write(&self, id: &str, state: &Value) -> Result<(), String> {
        let path = self.file(id);
        let text = serde_json::to_string_pretty(&to_json(state)).unwrap_or_default();
        std::fs::write(&path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn remove(&self, id: &str) -> Result<(), String> {
        let path = self.file(id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot delete {}: {e}", path.display())),
        }
    }
}

/// An object with every attribute of the resource present and no other (files written by
/// hand or by a legacy service may leave some out or hold others; the protocol's objects
/// have exactly the schema's).
fn complete(mut object: Value) -> Value {
    let names = schema::service_attribute_names();
    match &mut object {
        Value::Map(entries) => {
            entries.retain(|(k, _)| k.as_str().is_some_and(|k| names.iter().any(|n| n == k)));
        }
        _ => object = Value::Map(Vec::new()),
    }
    for name in names {
        if get(&object, &name).is_nil() && !has(&object, &name) {
            let empty = if name == "limits" {
                Value::Array(Vec::new())
            } else {
                Value::Nil
            };
            set(&mut object, &name, empty);
        }
    }
    object
}

fn has(object: &Value, name: &str) -> bool {
    object
        .as_map()
        .is_some_and(|entries| entries.iter().any(|(k, _)| k.as_str() == Some(name)))
}

/// `url` from `name` and `endpoint`, unknown while they are.
fn url(object: &Value) -> Value {
    let name = get(object, "name");
    let endpoint = get(object, "endpoint");
    if is_unknown(name) || is_unknown(endpoint) {
        return unknown();
    }
    let name = name.as_str().unwrap_or_default();
    if endpoint.is_nil() {
        return Value::from(format!("local://{name}"));
    }
    let host = get(endpoint, "host");
    let port = get(endpoint, "port");
    let tls = get(endpoint, "tls");
    if is_unknown(host) || is_unknown(port) || is_unknown(tls) {
        return unknown();
    }
    let scheme = if tls.as_bool() == Some(false) {
        "http"
    } else {
        "https"
    };
    let port = as_number(port).unwrap_or(443.0);
    Value::from(format!(
        "{scheme}://{}:{port}/{name}",
        host.as_str().unwrap_or_default()
    ))
}

/// The planned object: the proposed one with the defaults of the optional+computed
/// attributes filled in.
fn with_defaults(mut planned: Value, default_replicas: i64) -> Value {
    if get(&planned, "replicas").is_nil() {
        set(&mut planned, "replicas", Value::from(default_replicas));
    }
    let mut endpoint = get(&planned, "endpoint").clone();
    if endpoint.is_map() && get(&endpoint, "port").is_nil() {
        set(&mut endpoint, "port", Value::from(443));
        set(&mut planned, "endpoint", endpoint);
    }
    let mut defaults = |attribute: &str, field: &str, default: Value| {
        let mut collection = get(&planned, attribute).clone();
        for_each_element(&mut collection, |_, item| {
            if get(item, field).is_nil() {
                set(item, field, default.clone());
            }
        });
        set(&mut planned, attribute, collection);
    };
    defaults("routes", "weight", Value::from(100));
    defaults("ports", "protocol", Value::from("tcp"));
    defaults("backends", "healthy", unknown());
    planned
}

const SERVICE: &str = "braidtest_service";
const LEGACY: &str = "braidtest_legacy_service";

/// A legacy service's state: its id, name and size, from the service's file.
fn legacy_state(file: &Value) -> Value {
    Value::Map(
        ["id", "name", "size"]
            .into_iter()
            .map(|name| (Value::from(name), get(file, name).clone()))
            .collect(),
    )
}

/// Plans a legacy service: its configuration, the id unknown until it exists, a new name
/// replacing it.
fn plan_legacy(prior: &Value, proposed: Value) -> pb::plan_resource_change::Response {
    let mut planned = proposed;
    let mut requires_replace = Vec::new();
    if prior.is_nil() {
        set(&mut planned, "id", unknown());
    } else if get(prior, "name") != get(&planned, "name") {
        requires_replace.push(attribute_path(&["name"]));
    }
    pb::plan_resource_change::Response {
        planned_state: encode(&planned),
        requires_replace,
        ..Default::default()
    }
}

fn unknown_type(type_name: &str) -> Status {
    Status::invalid_argument(format!("braidtest has no resource type {type_name:?}"))
}

#[tonic::async_trait]
impl Provider for BraidTest {
    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Answer<pb::get_provider_schema::Response> {
        Ok(Response::new(schema::provider_schema()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Answer<pb::validate_provider_config::Response> {
        log_call("ValidateProviderConfig", "");
        let config = decode(request.into_inner().config)?;
        let mut diagnostics = Vec::new();
        if get(&config, "directory").as_str() == Some("") {
            diagnostics.push(error(
                "Invalid directory",
                "directory must name the folder that holds the services' files.".to_owned(),
                &["directory"],
            ));
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Answer<pb::configure_provider::Response> {
        log_call("ConfigureProvider", "");
        let config = decode(request.into_inner().config)?;
        let directory = get(&config, "directory").as_str().unwrap_or_default();
        let mut diagnostics = Vec::new();
        if let Err(e) = std::fs::create_dir_all(directory) {
            diagnostics.push(error(
                "Cannot use the directory",
                format!("{directory}: {e}"),
                &["directory"],
            ));
        }
        let default_replicas = get(&config, "default_replicas").as_i64().unwrap_or(1);
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = Some(Configured {
            directory: Path::new(directory).to_path_buf(),
            default_replicas,
        });
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Answer<pb::validate_resource_config::Response> {
        log_call("ValidateResourceConfig", &request.get_ref().type_name);
        let config = decode(request.into_inner().config)?;
        let mut diagnostics = Vec::new();
        if let Some(name) = get(&config, "name").as_str()
            && !valid_name(name)
        {
            diagnostics.push(error(
                "Invalid service name",
                format!(
                    "{name:?} is not a valid service name: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit."
                ),
                &["name"],
            ));
        }
        match as_number(get(&config, "replicas")) {
            Some(r) if r < 0.0 => diagnostics.push(error(
                "Invalid replicas",
                "replicas must be 0 or more.".to_owned(),
                &["replicas"],
            )),
            // A warning (the plan goes on), to test how warnings are shown.
            Some(r) if r > 10.0 => diagnostics.push(warning(
                "Many replicas",
                format!("{r} replicas is more than 10: consider an autoscaler instead."),
                &["replicas"],
            )),
            _ => {}
        }
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        _request: Request<pb::validate_data_resource_config::Request>,
    ) -> Answer<pb::validate_data_resource_config::Response> {
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Answer<pb::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let json = request.raw_state.map(|r| r.json).unwrap_or_default();
        let parsed: serde_json::Value = match serde_json::from_slice(&json) {
            Ok(parsed) => parsed,
            Err(e) => {
                return Ok(Response::new(pb::upgrade_resource_state::Response {
                    upgraded_state: None,
                    diagnostics: vec![error(
                        "Unreadable state",
                        format!("the stored state is not JSON: {e}"),
                        &[],
                    )],
                }));
            }
        };
        let mut state = complete(from_json(&parsed));
        if request.version == 0 {
            // Version 0 kept replicas as a string.
            let replicas = get(&state, "replicas").clone();
            if let Some(text) = replicas.as_str() {
                let number = text.parse::<i64>().map(Value::from).unwrap_or(Value::Nil);
                set(&mut state, "replicas", number);
            }
        }
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: encode(&state),
            diagnostics: Vec::new(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Answer<pb::read_resource::Response> {
        log_call("ReadResource", &request.get_ref().type_name);
        let configured = self.configured()?;
        let request = request.into_inner();
        let current = decode(request.current_state)?;
        let id = get(&current, "id").as_str().unwrap_or_default().to_owned();
        let legacy = match request.type_name.as_str() {
            SERVICE => false,
            LEGACY => true,
            other => return Err(unknown_type(other)),
        };
        let (state, diagnostics) = match configured.read(&id) {
            Ok(Some(found)) if legacy => (legacy_state(&found), Vec::new()),
            Ok(found) => (found.unwrap_or(Value::Nil), Vec::new()),
            Err(e) => (current, vec![error("Cannot read the service", e, &[])]),
        };
        Ok(Response::new(pb::read_resource::Response {
            new_state: encode(&state),
            diagnostics,
            private: request.private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Answer<pb::plan_resource_change::Response> {
        log_call("PlanResourceChange", &request.get_ref().type_name);
        let configured = self.configured()?;
        let request = request.into_inner();
        let prior = decode(request.prior_state)?;
        let proposed = decode(request.proposed_new_state)?;
        if proposed.is_nil() {
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: encode(&Value::Nil),
                ..Default::default()
            }));
        }
        match request.type_name.as_str() {
            SERVICE => {}
            LEGACY => return Ok(Response::new(plan_legacy(&prior, proposed))),
            other => return Err(unknown_type(other)),
        }
        let mut planned = with_defaults(proposed, configured.default_replicas);
        let planned_url = url(&planned);
        set(&mut planned, "url", planned_url);
        let mut requires_replace = Vec::new();
        if prior.is_nil() {
            set(&mut planned, "id", unknown());
            set(&mut planned, "generation", Value::from(1));
        } else {
            if get(&prior, "name") != get(&planned, "name") {
                requires_replace.push(attribute_path(&["name"]));
            }
            let generation = get(&prior, "generation").as_i64().unwrap_or(0);
            set(&mut planned, "generation", Value::from(generation));
            if planned != prior {
                set(&mut planned, "generation", Value::from(generation + 1));
            }
        }
        // Private data that says which plan it came from; apply keeps what it gets in the
        // file (`_private`), so tests see whether a saved plan's apply sent it back.
        let planned_private = format!(
            "planned {} generation {}",
            get(&planned, "name").as_str().unwrap_or("?"),
            get(&planned, "generation").as_i64().unwrap_or_default()
        )
        .into_bytes();
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: encode(&planned),
            requires_replace,
            planned_private,
            diagnostics: Vec::new(),
            legacy_type_system: false,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Answer<pb::apply_resource_change::Response> {
        log_call("ApplyResourceChange", &request.get_ref().type_name);
        let configured = self.configured()?;
        let request = request.into_inner();
        let prior = decode(request.prior_state)?;
        let planned = decode(request.planned_state)?;
        let failed = |state: &Value, summary: &str, detail: String| {
            Ok(Response::new(pb::apply_resource_change::Response {
                new_state: encode(state),
                private: Vec::new(),
                diagnostics: vec![error(summary, detail, &[])],
                legacy_type_system: false,
            }))
        };
        if planned.is_nil() {
            let id = get(&prior, "id").as_str().unwrap_or_default();
            if let Err(e) = configured.remove(id) {
                return failed(&prior, "Cannot delete the service", e);
            }
            return Ok(Response::new(pb::apply_resource_change::Response {
                new_state: encode(&Value::Nil),
                ..Default::default()
            }));
        }
        let mut state = planned;
        let name = get(&state, "name").as_str().unwrap_or_default().to_owned();
        let id = format!("svc-{name}");
        set(&mut state, "id", Value::from(id.as_str()));
        match request.type_name.as_str() {
            SERVICE => {}
            LEGACY => {
                if let Err(e) = configured.write(&id, &state) {
                    return failed(&prior, "Cannot write the service", e);
                }
                return Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: encode(&state),
                    ..Default::default()
                }));
            }
            other => return Err(unknown_type(other)),
        }
        let final_url = url(&state);
        set(&mut state, "url", final_url);
        let mut backends = get(&state, "backends").clone();
        for_each_element(&mut backends, |_, backend| {
            if is_unknown(get(backend, "healthy")) {
                set(backend, "healthy", Value::Boolean(true));
            }
        });
        set(&mut state, "backends", backends);
        if prior.is_nil() && configured.file(&id).exists() {
            return failed(
                &Value::Nil,
                "Service already exists",
                format!(
                    "A service named {name:?} already exists in {}; import it instead.",
                    configured.directory.display()
                ),
            );
        }
        let mut file = state.clone();
        set(
            &mut file,
            "_private",
            Value::from(String::from_utf8_lossy(&request.planned_private).as_ref()),
        );
        if let Err(e) = configured.write(&id, &file) {
            return failed(&prior, "Cannot write the service", e);
        }
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: encode(&state),
            private: request.planned_private,
            diagnostics: Vec::new(),
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Answer<pb::import_resource_state::Response> {
        let configured = self.configured()?;
        let request = request.into_inner();
        let (imported_resources, diagnostics) = match configured.read(&request.id) {
            Ok(Some(state)) => (
                vec![pb::import_resource_state::ImportedResource {
                    state: encode(&if request.type_name == LEGACY {
                        legacy_state(&state)
                    } else {
                        state
                    }),
                    type_name: request.type_name,
                    private: Vec::new(),
                }],
                Vec::new(),
            ),
            Ok(None) => (
                Vec::new(),
                vec![error(
                    "Cannot import non-existent remote object",
                    format!(
                        "No service with id {:?} exists in {}.",
                        request.id,
                        configured.directory.display()
                    ),
                    &[],
                )],
            ),
            Err(e) => (Vec::new(), vec![error("Cannot read the service", e, &[])]),
        };
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics,
            deferred: None,
        }))
    }

    /// A `braidtest_legacy_service` (of this provider) becomes a `braidtest_service`: its
    /// size is the service's replicas.
    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Answer<pb::move_resource_state::Response> {
        let request = request.into_inner();
        let refused = |detail: String| {
            Ok(Response::new(pb::move_resource_state::Response {
                target_state: None,
                diagnostics: vec![error("Unsupported move", detail, &[])],
                target_private: Vec::new(),
            }))
        };
        if request.source_type_name != LEGACY
            || request.target_type_name != SERVICE
            || !request.source_provider_address.ends_with("braid/braidtest")
        {
            return refused(format!(
                "braidtest moves only {LEGACY} objects of this provider to {SERVICE}, not {} of {:?} to {}.",
                request.source_type_name, request.source_provider_address, request.target_type_name
            ));
        }
        let json = request.source_state.map(|s| s.json).unwrap_or_default();
        let source: serde_json::Value = match serde_json::from_slice(&json) {
            Ok(source) => source,
            Err(e) => return refused(format!("the source state is not JSON: {e}")),
        };
        let source = from_json(&source);
        let mut target = complete(Value::Map(Vec::new()));
        set(&mut target, "id", get(&source, "id").clone());
        set(&mut target, "name", get(&source, "name").clone());
        set(&mut target, "replicas", get(&source, "size").clone());
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: encode(&target),
            diagnostics: vec![warning(
                "Legacy service moved",
                format!(
                    "The {LEGACY} {} is a {SERVICE} from now on; its size became replicas.",
                    get(&source, "name").as_str().unwrap_or_default()
                ),
                &[],
            )],
            target_private: request.source_private,
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Answer<pb::read_data_source::Response> {
        let configured = self.configured()?;
        let config = decode(request.into_inner().config)?;
        let name = get(&config, "name").as_str().unwrap_or_default().to_owned();
        let (state, diagnostics) = match configured.read(&format!("svc-{name}")) {
            Ok(Some(service)) => {
                let mut state = config;
                for attribute in ["id", "url", "replicas"] {
                    set(&mut state, attribute, get(&service, attribute).clone());
                }
                (state, Vec::new())
            }
            Ok(None) => (
                Value::Nil,
                vec![error(
                    "Service not found",
                    format!("No service named {name:?} exists."),
                    &["name"],
                )],
            ),
            Err(e) => (Value::Nil, vec![error("Cannot read the service", e, &[])]),
        };
        Ok(Response::new(pb::read_data_source::Response {
            state: encode(&state),
            diagnostics,
            deferred: None,
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Answer<pb::stop_provider::Response> {
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
