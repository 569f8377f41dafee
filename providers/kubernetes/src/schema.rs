//! The provider's schema: its configuration block and the `kubernetes_manifest` type.

use braid_provider::{AttributeSchema, AttributeType, ProviderSchema, ResourceSchema, Use};

/// The one resource type: any Kubernetes object.
pub const MANIFEST_TYPE: &str = "kubernetes_manifest";

pub fn provider_schema() -> ProviderSchema {
    let config = ResourceSchema::new("Connection to one Kubernetes cluster.")
        .attribute(
            "kubeconfig",
            optional(
                AttributeType::String,
                "Kubeconfig file; default KUBECONFIG, then ~/.kube/config.",
            ),
        )
        .attribute(
            "context",
            optional(
                AttributeType::String,
                "Kubeconfig context; default the current context.",
            ),
        )
        .attribute(
            "namespace",
            optional(
                AttributeType::String,
                "Namespace of namespaced objects that name none; default \"default\".",
            ),
        )
        .attribute(
            "in_cluster",
            optional(
                AttributeType::Bool,
                "Use the pod's service account instead of a kubeconfig.",
            ),
        )
        .attribute(
            "force_conflicts",
            optional(
                AttributeType::Bool,
                "Take over fields other field managers own (set by --force-conflicts).",
            ),
        )
        .attribute(
            "field_manager",
            optional(
                AttributeType::String,
                "Server-side apply field manager; default \"braid\".",
            ),
        );
    let mut manifest = ResourceSchema::new(
        "A Kubernetes object, applied with server-side apply. Attributes are the manifest's own \
         fields; the state holds only the fields braid manages.",
    )
    .attribute(
        "id",
        AttributeSchema::new(
            AttributeType::String,
            Use::Computed,
            "GROUP/VERSION/KIND/NAMESPACE/NAME of the object; also the import id.",
        ),
    )
    .attribute(
        "braid",
        AttributeSchema::new(
            AttributeType::Map,
            Use::Computed,
            "Computed values braid records: uid.",
        ),
    );
    manifest.open = true;
    ProviderSchema {
        config,
        resources: [(MANIFEST_TYPE.to_string(), manifest)]
            .into_iter()
            .collect(),
        data_sources: [(DATA_TYPE.to_string(), data_resource())]
            .into_iter()
            .collect(),
    }
}

/// The data source reading one object: `data "kubernetes_resource" "x"`.
pub const DATA_TYPE: &str = "kubernetes_resource";

fn data_resource() -> ResourceSchema {
    ResourceSchema::new(
        "Reads one live object by apiVersion, kind, name and namespace, as the Terraform \
         kubernetes provider's kubernetes_resource data source does.",
    )
    .attribute(
        "api_version",
        AttributeSchema::new(
            AttributeType::String,
            Use::Required,
            "The object's apiVersion (apps/v1).",
        ),
    )
    .attribute(
        "kind",
        AttributeSchema::new(
            AttributeType::String,
            Use::Required,
            "The object's kind (ConfigMap).",
        ),
    )
    .attribute(
        "metadata",
        AttributeSchema::new(
            AttributeType::Map,
            Use::Required,
            "A block with name and, for namespaced kinds, namespace (default: the provider's).",
        ),
    )
    .attribute(
        "object",
        AttributeSchema::new(AttributeType::Map, Use::Computed, "The whole live object."),
    )
}

fn optional(r#type: AttributeType, description: &str) -> AttributeSchema {
    AttributeSchema::new(r#type, Use::Optional, description)
}
