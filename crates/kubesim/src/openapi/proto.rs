//! The protobuf form of `/openapi/v2` that kubectl and client-go ask for
//! (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): the `openapi.v2`
//! messages of gnostic, written here with the published field numbers, holding only the
//! fields the emulator's documents use. Vendor extensions travel as YAML text, as gnostic
//! encodes them.

use prost::Message;
use serde_json::{Map, Value};

/// `openapi.v2.Document`.
#[derive(Clone, PartialEq, Message)]
pub struct Document {
    /// Always `2.0`.
    #[prost(string, tag = "1")]
    pub swagger: String,
    /// Title and version.
    #[prost(message, optional, tag = "2")]
    pub info: Option<Info>,
    /// Path items by path.
    #[prost(message, optional, tag = "8")]
    pub paths: Option<Paths>,
    /// Schemas by name.
    #[prost(message, optional, tag = "9")]
    pub definitions: Option<Definitions>,
}

/// `openapi.v2.Info`.
#[derive(Clone, PartialEq, Message)]
pub struct Info {
    /// Title.
    #[prost(string, tag = "1")]
    pub title: String,
    /// Version.
    #[prost(string, tag = "2")]
    pub version: String,
}

/// `openapi.v2.Paths`.
#[derive(Clone, PartialEq, Message)]
pub struct Paths {
    /// Path items.
    #[prost(message, repeated, tag = "2")]
    pub path: Vec<NamedPathItem>,
}

/// `openapi.v2.NamedPathItem`.
#[derive(Clone, PartialEq, Message)]
pub struct NamedPathItem {
    /// The path.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its operations.
    #[prost(message, optional, tag = "2")]
    pub value: Option<PathItem>,
}

/// `openapi.v2.PathItem`.
#[derive(Clone, PartialEq, Message)]
pub struct PathItem {
    /// GET.
    #[prost(message, optional, tag = "2")]
    pub get: Option<Operation>,
    /// PUT.
    #[prost(message, optional, tag = "3")]
    pub put: Option<Operation>,
    /// POST.
    #[prost(message, optional, tag = "4")]
    pub post: Option<Operation>,
    /// DELETE.
    #[prost(message, optional, tag = "5")]
    pub delete: Option<Operation>,
    /// PATCH.
    #[prost(message, optional, tag = "8")]
    pub patch: Option<Operation>,
    /// Parameters shared by the operations.
    #[prost(message, repeated, tag = "9")]
    pub parameters: Vec<ParametersItem>,
}

/// `openapi.v2.Operation`.
#[derive(Clone, PartialEq, Message)]
pub struct Operation {
    /// Description.
    #[prost(string, tag = "3")]
    pub description: String,
    /// Operation id.
    #[prost(string, tag = "5")]
    pub operation_id: String,
    /// Response media types.
    #[prost(string, repeated, tag = "6")]
    pub produces: Vec<String>,
    /// Request media types.
    #[prost(string, repeated, tag = "7")]
    pub consumes: Vec<String>,
    /// Parameters.
    #[prost(message, repeated, tag = "8")]
    pub parameters: Vec<ParametersItem>,
    /// Responses.
    #[prost(message, optional, tag = "9")]
    pub responses: Option<Responses>,
    /// `x-kubernetes-*` extensions.
    #[prost(message, repeated, tag = "13")]
    pub vendor_extension: Vec<NamedAny>,
}

/// `openapi.v2.ParametersItem` (only its `parameter` alternative).
#[derive(Clone, PartialEq, Message)]
pub struct ParametersItem {
    /// The parameter.
    #[prost(message, optional, tag = "1")]
    pub parameter: Option<Parameter>,
}

/// `openapi.v2.Parameter`: a body parameter or one of the others.
#[derive(Clone, PartialEq, Message)]
pub struct Parameter {
    /// `in: body`.
    #[prost(message, optional, tag = "1")]
    pub body_parameter: Option<BodyParameter>,
    /// Any other place.
    #[prost(message, optional, tag = "2")]
    pub non_body_parameter: Option<NonBodyParameter>,
}

/// `openapi.v2.BodyParameter`.
#[derive(Clone, PartialEq, Message)]
pub struct BodyParameter {
    /// Description.
    #[prost(string, tag = "1")]
    pub description: String,
    /// Name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// `body`.
    #[prost(string, tag = "3")]
    pub r#in: String,
    /// Whether required.
    #[prost(bool, tag = "4")]
    pub required: bool,
    /// The body's schema.
    #[prost(message, optional, tag = "5")]
    pub schema: Option<Schema>,
}

/// `openapi.v2.NonBodyParameter`: query (3) or path (4) parameters here.
#[derive(Clone, PartialEq, Message)]
pub struct NonBodyParameter {
    /// `in: query`.
    #[prost(message, optional, tag = "3")]
    pub query_parameter_sub_schema: Option<SimpleParameter>,
    /// `in: path`.
    #[prost(message, optional, tag = "4")]
    pub path_parameter_sub_schema: Option<SimpleParameter>,
}

/// `QueryParameterSubSchema` and `PathParameterSubSchema` in one message: fields 1–4
/// (required, in, description, name) are numbered alike in both; the type is field 6 of a
/// query parameter and field 5 of a path parameter, so each parameter sets only its own.
#[derive(Clone, PartialEq, Message)]
pub struct SimpleParameter {
    /// Whether required.
    #[prost(bool, tag = "1")]
    pub required: bool,
    /// `query` or `path`.
    #[prost(string, tag = "2")]
    pub r#in: String,
    /// Description.
    #[prost(string, tag = "3")]
    pub description: String,
    /// Name.
    #[prost(string, tag = "4")]
    pub name: String,
    /// Type (query parameters).
    #[prost(string, tag = "6")]
    pub query_type: String,
    /// Type (path parameters).
    #[prost(string, tag = "5")]
    pub path_type: String,
}

/// `openapi.v2.Responses`.
#[derive(Clone, PartialEq, Message)]
pub struct Responses {
    /// Responses by code.
    #[prost(message, repeated, tag = "1")]
    pub response_code: Vec<NamedResponseValue>,
}

/// `openapi.v2.NamedResponseValue`.
#[derive(Clone, PartialEq, Message)]
pub struct NamedResponseValue {
    /// Status code.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The response.
    #[prost(message, optional, tag = "2")]
    pub value: Option<ResponseValue>,
}

/// `openapi.v2.ResponseValue` (only its `response` alternative).
#[derive(Clone, PartialEq, Message)]
pub struct ResponseValue {
    /// The response.
    #[prost(message, optional, tag = "1")]
    pub response: Option<Response>,
}

/// `openapi.v2.Response`.
#[derive(Clone, PartialEq, Message)]
pub struct Response {
    /// Description.
    #[prost(string, tag = "1")]
    pub description: String,
    /// Schema of the body.
    #[prost(message, optional, tag = "2")]
    pub schema: Option<SchemaItem>,
}

/// `openapi.v2.SchemaItem` (only its `schema` alternative).
#[derive(Clone, PartialEq, Message)]
pub struct SchemaItem {
    /// The schema.
    #[prost(message, optional, tag = "1")]
    pub schema: Option<Schema>,
}

/// `openapi.v2.Definitions`.
#[derive(Clone, PartialEq, Message)]
pub struct Definitions {
    /// Schemas by name.
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

/// `openapi.v2.NamedSchema`.
#[derive(Clone, PartialEq, Message)]
pub struct NamedSchema {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Schema.
    #[prost(message, optional, tag = "2")]
    pub value: Option<Schema>,
}

/// `openapi.v2.Schema`.
#[derive(Clone, PartialEq, Message)]
pub struct Schema {
    /// `$ref`.
    #[prost(string, tag = "1")]
    pub r#ref: String,
    /// Format.
    #[prost(string, tag = "2")]
    pub format: String,
    /// Title.
    #[prost(string, tag = "3")]
    pub title: String,
    /// Description.
    #[prost(string, tag = "4")]
    pub description: String,
    /// Default value.
    #[prost(message, optional, tag = "5")]
    pub default: Option<Any>,
    /// Maximum.
    #[prost(double, tag = "7")]
    pub maximum: f64,
    /// Minimum.
    #[prost(double, tag = "9")]
    pub minimum: f64,
    /// Maximum length.
    #[prost(int64, tag = "11")]
    pub max_length: i64,
    /// Minimum length.
    #[prost(int64, tag = "12")]
    pub min_length: i64,
    /// Pattern.
    #[prost(string, tag = "13")]
    pub pattern: String,
    /// Maximum items.
    #[prost(int64, tag = "14")]
    pub max_items: i64,
    /// Minimum items.
    #[prost(int64, tag = "15")]
    pub min_items: i64,
    /// Required properties.
    #[prost(string, repeated, tag = "19")]
    pub required: Vec<String>,
    /// Allowed values.
    #[prost(message, repeated, tag = "20")]
    pub r#enum: Vec<Any>,
    /// `additionalProperties`.
    #[prost(message, optional, tag = "21")]
    pub additional_properties: Option<AdditionalPropertiesItem>,
    /// Type.
    #[prost(message, optional, tag = "22")]
    pub r#type: Option<TypeItem>,
    /// Item schema.
    #[prost(message, optional, tag = "23")]
    pub items: Option<ItemsItem>,
    /// `allOf`.
    #[prost(message, repeated, tag = "24")]
    pub all_of: Vec<Schema>,
    /// Properties.
    #[prost(message, optional, tag = "25")]
    pub properties: Option<Properties>,
    /// `x-*` extensions.
    #[prost(message, repeated, tag = "31")]
    pub vendor_extension: Vec<NamedAny>,
}

/// `openapi.v2.AdditionalPropertiesItem`.
#[derive(Clone, PartialEq, Message)]
pub struct AdditionalPropertiesItem {
    /// A schema for every value.
    #[prost(message, optional, tag = "1")]
    pub schema: Option<Box<Schema>>,
    /// `true`/`false`.
    #[prost(bool, optional, tag = "2")]
    pub boolean: Option<bool>,
}

/// `openapi.v2.TypeItem`.
#[derive(Clone, PartialEq, Message)]
pub struct TypeItem {
    /// Type names.
    #[prost(string, repeated, tag = "1")]
    pub value: Vec<String>,
}

/// `openapi.v2.ItemsItem`.
#[derive(Clone, PartialEq, Message)]
pub struct ItemsItem {
    /// Item schemas.
    #[prost(message, repeated, tag = "1")]
    pub schema: Vec<Schema>,
}

/// `openapi.v2.Properties`.
#[derive(Clone, PartialEq, Message)]
pub struct Properties {
    /// Properties by name.
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

/// `openapi.v2.NamedAny`.
#[derive(Clone, PartialEq, Message)]
pub struct NamedAny {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value.
    #[prost(message, optional, tag = "2")]
    pub value: Option<Any>,
}

/// `openapi.v2.Any`: a value as YAML text.
#[derive(Clone, PartialEq, Message)]
pub struct Any {
    /// The value, as YAML.
    #[prost(string, tag = "2")]
    pub yaml: String,
}

fn any(value: &Value) -> Any {
    Any {
        yaml: serde_yaml_ng::to_string(value).unwrap_or_default(),
    }
}

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn extensions(map: &Map<String, Value>) -> Vec<NamedAny> {
    map.iter()
        .filter(|(k, _)| k.starts_with("x-"))
        .map(|(k, v)| NamedAny {
            name: k.clone(),
            value: Some(any(v)),
        })
        .collect()
}

fn named_schemas(map: Option<&Value>) -> Vec<NamedSchema> {
    map.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, s)| NamedSchema {
            name: name.clone(),
            value: Some(schema(s)),
        })
        .collect()
}

/// A JSON schema (Swagger 2.0 form) as `openapi.v2.Schema`.
pub fn schema(value: &Value) -> Schema {
    let Some(map) = value.as_object() else {
        return Schema::default();
    };
    let number = |k: &str| map.get(k).and_then(Value::as_f64).unwrap_or_default();
    let integer = |k: &str| map.get(k).and_then(Value::as_i64).unwrap_or_default();
    let additional_properties = match map.get("additionalProperties") {
        Some(Value::Bool(b)) => Some(AdditionalPropertiesItem {
            schema: None,
            boolean: Some(*b),
        }),
        Some(s @ Value::Object(_)) => Some(AdditionalPropertiesItem {
            schema: Some(Box::new(schema(s))),
            boolean: None,
        }),
        _ => None,
    };
    let types = match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Schema {
        r#ref: text(map, "$ref"),
        format: text(map, "format"),
        title: text(map, "title"),
        description: text(map, "description"),
        default: map.get("default").map(any),
        maximum: number("maximum"),
        minimum: number("minimum"),
        max_length: integer("maxLength"),
        min_length: integer("minLength"),
        pattern: text(map, "pattern"),
        max_items: integer("maxItems"),
        min_items: integer("minItems"),
        required: map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        r#enum: map
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(any)
            .collect(),
        additional_properties,
        r#type: (!types.is_empty()).then_some(TypeItem { value: types }),
        items: map.get("items").map(|s| ItemsItem {
            schema: match s {
                Value::Array(list) => list.iter().map(schema).collect(),
                one => vec![schema(one)],
            },
        }),
        all_of: map
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(schema)
            .collect(),
        properties: map.get("properties").map(|p| Properties {
            additional_properties: named_schemas(Some(p)),
        }),
        vendor_extension: extensions(map),
    }
}

fn parameter(value: &Value) -> ParametersItem {
    let map = value.as_object().cloned().unwrap_or_default();
    let place = text(&map, "in");
    let parameter = if place == "body" {
        Parameter {
            body_parameter: Some(BodyParameter {
                description: text(&map, "description"),
                name: text(&map, "name"),
                r#in: place,
                required: map.get("required") == Some(&Value::Bool(true)),
                schema: map.get("schema").map(schema),
            }),
            non_body_parameter: None,
        }
    } else {
        let kind = text(&map, "type");
        let path = place == "path";
        let simple = SimpleParameter {
            required: map.get("required") == Some(&Value::Bool(true)),
            r#in: place,
            description: text(&map, "description"),
            name: text(&map, "name"),
            query_type: if path { String::new() } else { kind.clone() },
            path_type: if path { kind } else { String::new() },
        };
        Parameter {
            body_parameter: None,
            non_body_parameter: Some(if path {
                NonBodyParameter {
                    query_parameter_sub_schema: None,
                    path_parameter_sub_schema: Some(simple),
                }
            } else {
                NonBodyParameter {
                    query_parameter_sub_schema: Some(simple),
                    path_parameter_sub_schema: None,
                }
            }),
        }
    };
    ParametersItem {
        parameter: Some(parameter),
    }
}

fn parameters(value: Option<&Value>) -> Vec<ParametersItem> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(parameter)
        .collect()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn operation(value: Option<&Value>) -> Option<Operation> {
    let map = value?.as_object()?;
    let responses = map
        .get("responses")
        .and_then(Value::as_object)
        .map(|r| Responses {
            response_code: r
                .iter()
                .map(|(code, resp)| NamedResponseValue {
                    name: code.clone(),
                    value: Some(ResponseValue {
                        response: Some(Response {
                            description: resp["description"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                            schema: resp.get("schema").map(|s| SchemaItem {
                                schema: Some(schema(s)),
                            }),
                        }),
                    }),
                })
                .collect(),
        });
    Some(Operation {
        description: text(map, "description"),
        operation_id: text(map, "operationId"),
        produces: strings(map.get("produces")),
        consumes: strings(map.get("consumes")),
        parameters: parameters(map.get("parameters")),
        responses,
        vendor_extension: extensions(map),
    })
}

/// The protobuf encoding of a Swagger 2.0 document built by `v2_document`.
pub fn encode_v2(document: &Value) -> Vec<u8> {
    let paths = document["paths"].as_object().map(|paths| Paths {
        path: paths
            .iter()
            .map(|(name, item)| NamedPathItem {
                name: name.clone(),
                value: Some(PathItem {
                    get: operation(item.get("get")),
                    put: operation(item.get("put")),
                    post: operation(item.get("post")),
                    delete: operation(item.get("delete")),
                    patch: operation(item.get("patch")),
                    parameters: parameters(item.get("parameters")),
                }),
            })
            .collect(),
    });
    Document {
        swagger: document["swagger"].as_str().unwrap_or("2.0").to_string(),
        info: Some(Info {
            title: document["info"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            version: document["info"]["version"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }),
        paths,
        definitions: Some(Definitions {
            additional_properties: named_schemas(document.get("definitions")),
        }),
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_round_trip_through_the_wire_format() {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.33.0"},
            "paths": {},
            "definitions": {"a.B": {
                "type": "object",
                "properties": {"n": {"type": "integer", "format": "int32"},
                               "m": {"$ref": "#/definitions/a.C"}},
                "x-kubernetes-group-version-kind": [{"group": "", "kind": "B", "version": "v1"}],
            }},
        });
        let decoded = Document::decode(encode_v2(&doc).as_slice()).expect("decodes");
        let defs = decoded
            .definitions
            .expect("definitions")
            .additional_properties;
        assert_eq!(defs[0].name, "a.B");
        let b = defs[0].value.clone().expect("schema");
        assert_eq!(b.r#type.expect("type").value, vec!["object"]);
        let props = b.properties.expect("properties").additional_properties;
        assert!(props.iter().any(|p| {
            p.name == "m"
                && p.value
                    .as_ref()
                    .is_some_and(|s| s.r#ref == "#/definitions/a.C")
        }));
        assert_eq!(
            b.vendor_extension[0].name,
            "x-kubernetes-group-version-kind"
        );
        assert!(
            b.vendor_extension[0]
                .value
                .as_ref()
                .is_some_and(|a| a.yaml.contains("kind: B"))
        );
    }
}
