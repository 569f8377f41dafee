# Images only from our registry.
package braid

import rego.v1

registries := ["registry.example.com/"]

deny contains {"name": "our-registry", "msg": msg} if {
	some [address, _, c] in containers
	not from_our_registry(c.image)
	msg := sprintf("%s: container %q runs %q, which is not from %s", [address, c.name, c.image, concat(" or ", registries)])
}

from_our_registry(image) if {
	some prefix in registries
	startswith(image, prefix)
}
