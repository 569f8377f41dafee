# Resource limits on Deployments: every container sets CPU and memory limits. Overridable
# (a person may set it aside with a reason, recorded in the audit log).
package braid

import rego.v1

deny contains {"name": "resource-limits", "overridable": true, "msg": msg} if {
	some [address, kind, c] in containers
	kind == "Deployment"
	some resource in ["cpu", "memory"]
	not c.resources.limits[resource]
	msg := sprintf("%s: container %q has no %s limit", [address, c.name, resource])
}

warn contains msg if {
	some [address, kind, c] in containers
	kind == "Deployment"
	not c.resources.requests
	msg := sprintf("%s: container %q sets no resource requests", [address, c.name])
}
