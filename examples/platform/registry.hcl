# Container image repositories of the three services. The deployment repo takes each
# image's repository from here (images: newName: "${{ aws_ecr_repository.web.repository_url }}").

resource "aws_ecr_repository" "web" {
  name                 = "acme/${env.name}/web"
  image_tag_mutability = "IMMUTABLE"
  scan_on_push         = true
  force_delete         = env.name != "prod"
  tags                 = merge(local.tags, { team = "web" })
}

resource "aws_ecr_repository" "checkout" {
  name                 = "acme/${env.name}/checkout"
  image_tag_mutability = "IMMUTABLE"
  scan_on_push         = true
  force_delete         = env.name != "prod"
  tags                 = merge(local.tags, { team = "checkout" })
}

resource "aws_ecr_repository" "payments" {
  name                 = "acme/${env.name}/payments"
  image_tag_mutability = "IMMUTABLE"
  scan_on_push         = true
  force_delete         = env.name != "prod"
  tags                 = merge(local.tags, { team = "payments" })
}
