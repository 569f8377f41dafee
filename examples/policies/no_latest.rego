# No mutable image references: no ":latest", no image without a tag or digest.
package braid

import rego.v1

deny contains {"name": "no-latest", "msg": msg} if {
	some [address, _, c] in containers
	endswith(c.image, ":latest")
	msg := sprintf("%s: container %q uses %q; pin a version or a digest", [address, c.name, c.image])
}

deny contains {"name": "no-latest", "msg": msg} if {
	some [address, _, c] in containers
	not contains(c.image, "@")
	not tagged(c.image)
	msg := sprintf("%s: container %q uses %q without a tag (that is :latest); pin a version or a digest", [address, c.name, c.image])
}

# A tag follows the last ":" after the last "/" (a registry port is before it).
tagged(image) if {
	parts := split(image, "/")
	contains(parts[count(parts) - 1], ":")
}
