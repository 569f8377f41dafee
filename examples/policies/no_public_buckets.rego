# No public S3 buckets: no public canned ACL, and no public access block that lets public
# ACLs or policies through.
package braid

import rego.v1

public_acls := {"public-read", "public-read-write", "authenticated-read"}

deny contains {"name": "no-public-buckets", "msg": msg} if {
	some rc in changed
	rc.type in {"aws_s3_bucket", "aws_s3_bucket_acl"}
	rc.change.after.acl in public_acls
	msg := sprintf("%s: the ACL %q makes the bucket public; keep buckets private", [rc.address, rc.change.after.acl])
}

deny contains {"name": "no-public-buckets", "msg": msg} if {
	some rc in changed
	rc.type == "aws_s3_bucket_public_access_block"
	some setting in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
	rc.change.after[setting] == false
	msg := sprintf("%s: %s = false lets the bucket become public; set all four settings to true", [rc.address, setting])
}
