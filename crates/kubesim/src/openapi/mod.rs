//! OpenAPI documents as the real API server publishes them: `/openapi/v2` (one Swagger 2.0
//! document, as JSON or as the protobuf kubectl asks for) and `/openapi/v3` (an index, then
//! one OpenAPI 3.0 document per group/version).
//!
//! Schemas of built-in kinds come from `k8s-openapi`'s JSON schemas (generated from the
//! Kubernetes API's own OpenAPI definitions, descriptions included), completed with what the
//! real server adds: `x-kubernetes-group-version-kind` on every kind, and the strategic-merge
//! extensions (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`,
//! `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`) kubectl reads to compute patches.
//! Custom kinds get their CRD's structural schema with `apiVersion`, `kind` and `metadata`
//! added. Every resource has paths whose operations carry the query parameters the server
//! accepts (`dryRun`, `fieldManager`, `fieldValidation`, `force`): kubectl looks for
//! `fieldValidation` there to decide that the server validates fields itself.
//!
//! The same definitions drive field validation (`prune`): unknown fields are dropped, and
//! reported as the `fieldValidation` query parameter asks.

mod paths;
pub mod proto;
mod prune;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use k8s_openapi::Resource;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::catalogue::{Catalogue, ResourceType};
use crate::discovery::{VERSION_MAJOR, VERSION_MINOR};

pub use prune::{FieldValidation, UnknownFields, duplicate_fields, prune};

/// Definition name of `ObjectMeta`, referenced by every kind.
pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
/// Definition name of the `autoscaling/v1` `Scale` served by `/scale` subresources.
pub const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const V2_REF_PREFIX: &str = "#/definitions/";
const V3_REF_PREFIX: &str = "#/components/schemas/";

/// A kind with a schema: group, version, kind and its definition name.
#[derive(Debug, Clone)]
struct KindSchema {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    definition: String,
}

/// Definitions of the built-in kinds and everything they reference, with
/// `#/definitions/NAME` references (Swagger 2.0 form).
struct Builtins {
    definitions: Map<String, Value>,
    kinds: Vec<KindSchema>,
}

fn kind_schema<T: JsonSchema + Resource>(generator: &mut SchemaGenerator) -> KindSchema {
    generator.subschema_for::<T>();
    KindSchema {
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
        definition: T::schema_name().into_owned(),
    }
}

fn builtins() -> &'static Builtins {
    static BUILTINS: OnceLock<Builtins> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        use k8s_openapi::api::{
            apps, autoscaling, batch, core, events, networking, policy, rbac, storage,
        };
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
        let mut settings = SchemaSettings::draft07();
        settings.transforms.clear();
        settings.meta_schema = None;
        let mut g = settings.into_generator();
        let kinds = vec![
            kind_schema::<core::v1::Namespace>(&mut g),
            kind_schema::<core::v1::ConfigMap>(&mut g),
            kind_schema::<core::v1::Secret>(&mut g),
            kind_schema::<core::v1::Service>(&mut g),
            kind_schema::<core::v1::ServiceAccount>(&mut g),
            kind_schema::<core::v1::PersistentVolumeClaim>(&mut g),
            kind_schema::<core::v1::Pod>(&mut g),
            kind_schema::<core::v1::Event>(&mut g),
            kind_schema::<apps::v1::Deployment>(&mut g),
            kind_schema::<apps::v1::StatefulSet>(&mut g),
            kind_schema::<apps::v1::DaemonSet>(&mut g),
            kind_schema::<apps::v1::ReplicaSet>(&mut g),
            kind_schema::<batch::v1::Job>(&mut g),
            kind_schema::<batch::v1::CronJob>(&mut g),
            kind_schema::<networking::v1::Ingress>(&mut g),
            kind_schema::<networking::v1::IngressClass>(&mut g),
            kind_schema::<networking::v1::NetworkPolicy>(&mut g),
            kind_schema::<autoscaling::v2::HorizontalPodAutoscaler>(&mut g),
            kind_schema::<autoscaling::v1::Scale>(&mut g),
            kind_schema::<policy::v1::PodDisruptionBudget>(&mut g),
            kind_schema::<rbac::v1::Role>(&mut g),
            kind_schema::<rbac::v1::RoleBinding>(&mut g),
            kind_schema::<rbac::v1::ClusterRole>(&mut g),
            kind_schema::<rbac::v1::ClusterRoleBinding>(&mut g),
            kind_schema::<apiextensions::v1::CustomResourceDefinition>(&mut g),
            kind_schema::<storage::v1::StorageClass>(&mut g),
            kind_schema::<events::v1::Event>(&mut g),
        ];
        let mut definitions = g.take_definitions(false);
        for k in &kinds {
            if let Some(Value::Object(def)) = definitions.get_mut(&k.definition) {
                def.insert(
                    "x-kubernetes-group-version-kind".into(),
                    json!([{"group": k.group, "kind": k.kind, "version": k.version}]),
                );
            }
        }
        if let Some(Value::Object(def)) = definitions.get_mut(INT_OR_STRING) {
            // As the server publishes it: a string schema with the int-or-string format.
            def.insert("type".into(), json!("string"));
            def.insert("format".into(), json!("int-or-string"));
            def.remove("x-kubernetes-int-or-string");
        }
        add_list_extensions(&mut definitions);
        Builtins { definitions, kinds }
    })
}

/// How the server merges list fields of built-in kinds: (definition, property, merge key,
/// patch strategy, list-map keys). The facts come from the Kubernetes API types' tags.
const LIST_MERGES: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        "name",
        "merge",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        "name",
        "merge",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        "name",
        "merge",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "volumes",
        "name",
        "merge,retainKeys",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "imagePullSecrets",
        "name",
        "merge",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "hostAliases",
        "ip",
        "merge",
        &["ip"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "resourceClaims",
        "name",
        "merge,retainKeys",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        "topologyKey",
        "merge",
        &["topologyKey", "whenUnsatisfiable"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "env",
        "name",
        "merge",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "ports",
        "containerPort",
        "merge",
        &["containerPort", "protocol"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        "mountPath",
        "merge",
        &["mountPath"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        "devicePath",
        "merge",
        &["devicePath"],
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "env",
        "name",
        "merge",
        &["name"],
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        "mountPath",
        "merge",
        &["mountPath"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        "port",
        "merge",
        &["port", "protocol"],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        "uid",
        "merge",
        &["uid"],
    ),
];

fn add_list_extensions(definitions: &mut Map<String, Value>) {
    for (definition, property, key, strategy, map_keys) in LIST_MERGES {
        let Some(field) = definitions
            .get_mut(*definition)
            .and_then(|d| d["properties"].get_mut(*property))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        field.insert("x-kubernetes-patch-merge-key".into(), json!(key));
        field.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
        field.insert("x-kubernetes-list-type".into(), json!("map"));
        field.insert("x-kubernetes-list-map-keys".into(), json!(map_keys));
    }
    if let Some(Value::Object(finalizers)) = definitions
        .get_mut(OBJECT_META)
        .and_then(|d| d["properties"].get_mut("finalizers"))
    {
        finalizers.insert("x-kubernetes-patch-strategy".into(), json!("merge"));
        finalizers.insert("x-kubernetes-list-type".into(), json!("set"));
    }
    // Conditions of every status merge by type.
    for def in definitions.values_mut() {
        let Some(conditions) = def["properties"]
            .get_mut("conditions")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if conditions.get("type") == Some(&json!("array")) {
            conditions.insert("x-kubernetes-patch-merge-key".into(), json!("type"));
            conditions.insert("x-kubernetes-patch-strategy".into(), json!("merge"));
        }
    }
}

/// The definition (v2 form) a built-in kind's schema has, if the emulator has one.
pub fn builtin_definition(group: &str, version: &str, kind: &str) -> Option<&'static Value> {
    let b = builtins();
    let k = b
        .kinds
        .iter()
        .find(|k| k.group == group && k.version == version && k.kind == kind)?;
    b.definitions.get(&k.definition)
}

/// A built-in definition by name (v2 form).
pub fn definition(name: &str) -> Option<&'static Value> {
    builtins().definitions.get(name)
}

/// The OpenAPI schema name of a custom kind, as the API server writes it: the group
/// reversed, the version, the kind (`com.example.v1.Widget`).
pub fn custom_schema_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// A served version of a CustomResourceDefinition: its kind and structural schema.
#[derive(Debug, Clone)]
pub struct CustomSchema {
    /// API group.
    pub group: String,
    /// Version name.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// `openAPIV3Schema` (Null when the CRD gives none).
    pub schema: Value,
}

/// The served versions of the CRDs in `crds`.
pub fn custom_schemas(crds: &[&Value]) -> Vec<CustomSchema> {
    let mut out = Vec::new();
    for crd in crds {
        let spec = &crd["spec"];
        let (Some(group), Some(kind)) = (spec["group"].as_str(), spec["names"]["kind"].as_str())
        else {
            continue;
        };
        for version in spec["versions"].as_array().into_iter().flatten() {
            if version["served"].as_bool() == Some(false) {
                continue;
            }
            let Some(name) = version["name"].as_str() else {
                continue;
            };
            out.push(CustomSchema {
                group: group.to_string(),
                version: name.to_string(),
                kind: kind.to_string(),
                schema: version["schema"]["openAPIV3Schema"].clone(),
            });
        }
    }
    out
}

/// A custom kind's definition (v2 form): its schema with the GVK and the fields every
/// object has.
fn custom_definition(custom: &CustomSchema) -> Value {
    let mut schema = match &custom.schema {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    schema.entry("type").or_insert(json!("object"));
    let properties = schema.entry("properties").or_insert_with(|| json!({}));
    if let Value::Object(properties) = properties {
        for field in ["apiVersion", "kind"] {
            properties.entry(field).or_insert(json!({"type": "string"}));
        }
        properties.insert(
            "metadata".into(),
            json!({"$ref": format!("{V2_REF_PREFIX}{OBJECT_META}")}),
        );
    }
    schema.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([{"group": custom.group, "kind": custom.kind, "version": custom.version}]),
    );
    Value::Object(schema)
}

fn info() -> Value {
    json!({"title": "Kubernetes", "version": format!("v{VERSION_MAJOR}.{VERSION_MINOR}.0")})
}

/// Every `#/definitions/` name `value` references, directly.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix(V2_REF_PREFIX)
            {
                out.push(name.to_string());
            }
            for v in map.values() {
                references(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// The definitions reachable from `roots`, looked up in `customs` then in the built-ins.
fn reachable(roots: &[String], customs: &Map<String, Value>) -> Map<String, Value> {
    let builtins = &builtins().definitions;
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.to_vec();
    let mut out = Map::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(def) = customs.get(&name).or_else(|| builtins.get(&name)) else {
            continue;
        };
        references(def, &mut todo);
        out.insert(name, def.clone());
    }
    out
}

/// The definition name of a served type, when it has a schema.
fn definition_of(rt: &ResourceType) -> Option<String> {
    if rt.builtin {
        builtins()
            .kinds
            .iter()
            .find(|k| k.group == rt.group && k.version == rt.version && k.kind == rt.kind)
            .map(|k| k.definition.clone())
    } else {
        Some(custom_schema_name(&rt.group, &rt.version, &rt.kind))
    }
}

fn custom_definitions(crds: &[&Value]) -> Map<String, Value> {
    custom_schemas(crds)
        .iter()
        .map(|c| {
            (
                custom_schema_name(&c.group, &c.version, &c.kind),
                custom_definition(c),
            )
        })
        .collect()
}

/// `/openapi/v2`: one Swagger 2.0 document for every served type.
pub fn v2_document(catalogue: &Catalogue, crds: &[&Value]) -> Value {
    let customs = custom_definitions(crds);
    let mut roots = Vec::new();
    let mut path_items = Map::new();
    for rt in catalogue.types() {
        let Some(definition) = definition_of(rt) else {
            continue;
        };
        paths::add(&mut path_items, rt, &definition, false);
        roots.push(definition);
    }
    roots.push(SCALE.to_string());
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": path_items,
        "definitions": reachable(&roots, &customs),
    })
}

/// The index path (`api/v1`, `apis/GROUP/VERSION`) of a group/version.
fn index_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: where each group/version's document is.
pub fn v3_index(catalogue: &Catalogue) -> Value {
    let mut paths = Map::new();
    for (group, versions) in catalogue.groups() {
        for version in versions {
            let key = index_key(&group, &version);
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}")}),
            );
        }
    }
    json!({ "paths": paths })
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION`; `None` when nothing is served
/// there.
pub fn v3_document(
    catalogue: &Catalogue,
    crds: &[&Value],
    group: &str,
    version: &str,
) -> Option<Value> {
    if !catalogue.serves_group_version(group, version) {
        return None;
    }
    let customs = custom_definitions(crds);
    let mut roots = Vec::new();
    let mut path_items = Map::new();
    for rt in catalogue
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        let Some(definition) = definition_of(rt) else {
            continue;
        };
        paths::add(&mut path_items, rt, &definition, true);
        roots.push(definition);
        if rt.scale.is_some() {
            roots.push(SCALE.to_string());
        }
    }
    let mut schemas = reachable(&roots, &customs);
    for schema in schemas.values_mut() {
        to_v3(schema);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": path_items,
        "components": {"schemas": schemas},
    }))
}

/// Rewrites a v2 schema in place into its v3 form: references point into
/// `components/schemas`, and a reference with sibling keywords moves into `allOf`, as the
/// server publishes it.
fn to_v3(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                to_v3(v);
            }
            let Some(Value::String(r)) = map.get("$ref") else {
                return;
            };
            let Some(name) = r.strip_prefix(V2_REF_PREFIX) else {
                return;
            };
            let reference = json!({"$ref": format!("{V3_REF_PREFIX}{name}")});
            if map.len() == 1 {
                map.insert("$ref".into(), reference["$ref"].clone());
            } else {
                map.remove("$ref");
                map.insert("allOf".into(), json!([reference]));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_v3),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_carry_their_group_version_kind() {
        let def = builtin_definition("apps", "v1", "Deployment").expect("deployment schema");
        assert_eq!(
            def["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        let pod_spec = definition("io.k8s.api.core.v1.PodSpec").expect("pod spec");
        assert_eq!(
            pod_spec["properties"]["containers"]["x-kubernetes-patch-merge-key"],
            "name"
        );
    }

    #[test]
    fn v3_documents_reference_components_and_wrap_described_refs() {
        let catalogue = Catalogue::builtin();
        let doc = v3_document(&catalogue, &[], "apps", "v1").expect("apps/v1 served");
        let schemas = &doc["components"]["schemas"];
        assert!(schemas.get("io.k8s.api.apps.v1.Deployment").is_some());
        assert!(schemas.get(OBJECT_META).is_some());
        let spec = &schemas["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"];
        assert_eq!(
            spec["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
        );
        assert!(v3_document(&catalogue, &[], "apps", "v9").is_none());
    }

    #[test]
    fn only_apps_workloads_scale() {
        let catalogue = Catalogue::builtin();
        let scalable = |plural| {
            catalogue
                .find("apps", "v1", plural)
                .is_some_and(|t| t.scale.is_some())
        };
        assert!(scalable("deployments"));
        assert!(!scalable("daemonsets"));
    }
}
