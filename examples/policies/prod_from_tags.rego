# Changes reach prod only from release tags: every git source of a prod plan with changes
# is read at a tag. Overridable for emergencies (recorded in the audit log).
package braid

import rego.v1

deny contains {"name": "prod-from-tags", "overridable": true, "msg": msg} if {
	input.braid.env == "prod"
	count(changed) + count(deleted) > 0
	some s in input.braid.sources
	s.commit != null
	not startswith(object.get(s, "full_ref", ""), "refs/tags/")
	msg := sprintf("prod changes come from release tags, but source %q is read at %s", [s.name, ref_of(s)])
}

deleted contains rc if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
}

ref_of(s) := s.full_ref if s.full_ref != null

ref_of(s) := sprintf("commit %s", [s.commit]) if s.full_ref == null
