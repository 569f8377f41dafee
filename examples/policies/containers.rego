# Helpers shared by the example policies: every container of every Kubernetes object a
# plan creates or updates, with the object's address.
package braid

import rego.v1

changed contains rc if {
	some rc in input.resource_changes
	some action in rc.change.actions
	action in {"create", "update"}
}

# The pod template of a workload, or the pod itself.
pod_spec(obj) := obj.spec.template.spec if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

pod_spec(obj) := obj.spec if obj.kind == "Pod"

# [address, kind, container] for every container and init container.
containers contains [rc.address, obj.kind, c] if {
	some rc in changed
	rc.type == "kubernetes_manifest"
	obj := rc.change.after
	spec := pod_spec(obj)
	some field in ["containers", "initContainers"]
	some c in object.get(spec, field, [])
}
