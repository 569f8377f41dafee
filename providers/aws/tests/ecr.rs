//! `aws_ecr_repository` against moto_server.

mod common;

use aws_sdk_ecr::types::ImageTagMutability;
use braid_provider::Value;
use common::{Harness, attr, config, string, tags, with};

const REPOSITORY: &str = "aws_ecr_repository";

fn ecr(h: &Harness) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(&h.sdk)
}

async fn live(h: &Harness, name: &str) -> Option<aws_sdk_ecr::types::Repository> {
    ecr(h)
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .ok()?
        .repositories()
        .first()
        .cloned()
}

#[tokio::test]
async fn repository_lifecycle() {
    let h = Harness::start().await;
    let cfg = config([
        ("name", Value::from("web")),
        ("tags", tags([("team", "web")])),
    ]);
    let (planned, state) = h.apply(REPOSITORY, None, &cfg).await;
    assert_eq!(attr(&planned.planned, "repository_url"), &Value::Unknown);
    assert!(
        string(&state, "repository_url").ends_with("/web"),
        "{state:?}"
    );
    assert_eq!(
        attr(&state, "image_tag_mutability"),
        &Value::from("MUTABLE")
    );
    assert!(live(&h, "web").await.is_some());
    h.assert_no_op(REPOSITORY, &state, &cfg).await;
    h.assert_import(REPOSITORY, "web", &state).await;

    let updated = with(
        &with(&cfg, "image_tag_mutability", Value::from("IMMUTABLE")),
        "scan_on_push",
        Value::Bool(true),
    );
    let state = h.update(REPOSITORY, &state, &updated).await;
    let repository = live(&h, "web").await.expect("exists");
    assert_eq!(
        repository.image_tag_mutability(),
        Some(&ImageTagMutability::Immutable)
    );
    assert!(
        repository
            .image_scanning_configuration()
            .is_some_and(|c| c.scan_on_push())
    );

    ecr(&h)
        .put_image_tag_mutability()
        .repository_name("web")
        .image_tag_mutability(ImageTagMutability::Mutable)
        .send()
        .await
        .expect("PutImageTagMutability");
    let state = h
        .restore_drift(REPOSITORY, &state, &updated, "image_tag_mutability")
        .await;

    let renamed = with(&updated, "name", Value::from("web-2"));
    let state = h.replace(REPOSITORY, &state, &renamed, &["name"]).await;
    assert!(live(&h, "web").await.is_none(), "old repository kept");

    ecr(&h)
        .delete_repository()
        .repository_name("web-2")
        .send()
        .await
        .expect("DeleteRepository");
    let state = h.recreate(REPOSITORY, &state, &renamed).await;

    h.destroy(REPOSITORY, &state).await;
    assert!(live(&h, "web-2").await.is_none());
}
