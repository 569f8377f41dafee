//! `aws_s3_bucket` and `aws_s3_bucket_policy` against moto_server.

mod common;

use aws_sdk_s3::types::{BucketVersioningStatus, Tag, Tagging};
use braid_provider::Value;
use common::{Harness, attr, config, string, tags, with};

const BUCKET: &str = "aws_s3_bucket";
const POLICY: &str = "aws_s3_bucket_policy";

/// Whether versioning is enabled, as S3 reports it. moto's answer has a root element the SDK
/// rejects, so on that error the raw body is read.
async fn versioning_enabled(h: &Harness, bucket: &str) -> bool {
    match h.s3().get_bucket_versioning().bucket(bucket).send().await {
        Ok(v) => v.status() == Some(&BucketVersioningStatus::Enabled),
        Err(e) => {
            let body = e
                .raw_response()
                .and_then(|r| r.body().bytes())
                .map(|b| String::from_utf8_lossy(b).to_string())
                .unwrap_or_else(|| panic!("GetBucketVersioning: {e:?}"));
            body.contains("<Status>Enabled</Status>")
        }
    }
}

async fn bucket_tags(h: &Harness, bucket: &str) -> Vec<(String, String)> {
    match h.s3().get_bucket_tagging().bucket(bucket).send().await {
        Ok(t) => t
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

async fn exists(h: &Harness, bucket: &str) -> bool {
    h.s3().head_bucket().bucket(bucket).send().await.is_ok()
}

#[tokio::test]
async fn bucket_lifecycle() {
    let h = Harness::start().await;
    let cfg = config([
        ("bucket", Value::from("braid-assets")),
        ("tags", tags([("team", "web")])),
    ]);

    // Create: computed attributes are known at plan time.
    let (planned, state) = h.apply(BUCKET, None, &cfg).await;
    assert_eq!(
        attr(&planned.planned, "arn"),
        &Value::from("arn:aws:s3:::braid-assets")
    );
    assert_eq!(string(&state, "id"), "braid-assets");
    assert_eq!(
        attr(&state, "versioning"),
        &Value::map([("enabled", Value::Bool(false))])
    );
    assert_eq!(attr(&state, "force_destroy"), &Value::Bool(false));
    assert!(exists(&h, "braid-assets").await);
    assert_eq!(
        bucket_tags(&h, "braid-assets").await,
        vec![("team".into(), "web".into())]
    );
    h.assert_no_op(BUCKET, &state, &cfg).await;
    h.assert_import(BUCKET, "braid-assets", &state).await;

    // A create that would collide with the existing bucket plans an import.
    let again = h.plan(BUCKET, None, &cfg).await;
    assert_eq!(again.existing.as_ref(), Some(&state));

    // In place: versioning (as a block, i.e. a list of one map) and tags.
    let updated_cfg = with(
        &with(
            &cfg,
            "versioning",
            Value::List(vec![Value::map([("enabled", Value::Bool(true))])]),
        ),
        "tags",
        tags([("team", "platform"), ("env", "dev")]),
    );
    let state = h.update(BUCKET, &state, &updated_cfg).await;
    assert!(versioning_enabled(&h, "braid-assets").await);
    let mut live_tags = bucket_tags(&h, "braid-assets").await;
    live_tags.sort();
    assert_eq!(
        live_tags,
        vec![
            ("env".into(), "dev".into()),
            ("team".into(), "platform".into())
        ]
    );

    // Drift: tags removed out of band show up and are put back.
    h.s3()
        .put_bucket_tagging()
        .bucket("braid-assets")
        .tagging(
            Tagging::builder()
                .tag_set(
                    Tag::builder()
                        .key("team")
                        .value("other")
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("PutBucketTagging");
    let state = h.restore_drift(BUCKET, &state, &updated_cfg, "tags").await;
    assert_eq!(bucket_tags(&h, "braid-assets").await.len(), 2);

    // Replace: a new name. force_destroy lets the old one go although it holds objects.
    let destroyable = with(&updated_cfg, "force_destroy", Value::Bool(true));
    let state = h.update(BUCKET, &state, &destroyable).await;
    h.s3()
        .put_object()
        .bucket("braid-assets")
        .key("index.html")
        .body(b"<h1>hi</h1>".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    let renamed = with(&destroyable, "bucket", Value::from("braid-assets-2"));
    let state = h.replace(BUCKET, &state, &renamed, &["bucket"]).await;
    assert!(!exists(&h, "braid-assets").await, "old bucket still exists");
    assert!(exists(&h, "braid-assets-2").await);

    // Deleted out of band: gone on refresh, created again.
    h.s3()
        .delete_bucket()
        .bucket("braid-assets-2")
        .send()
        .await
        .expect("DeleteBucket");
    let state = h.recreate(BUCKET, &state, &renamed).await;
    assert!(exists(&h, "braid-assets-2").await);

    h.destroy(BUCKET, &state).await;
    assert!(!exists(&h, "braid-assets-2").await);
    assert_eq!(h.read(BUCKET, &state).await, None);
}

#[tokio::test]
async fn bucket_not_empty_error_names_address_and_code() {
    let h = Harness::start().await;
    let cfg = config([("bucket", Value::from("braid-full"))]);
    let (_, state) = h.apply(BUCKET, None, &cfg).await;
    h.s3()
        .put_object()
        .bucket("braid-full")
        .key("a.txt")
        .body(b"a".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    let response = braid_provider::Provider::apply(
        &h.provider,
        braid_provider::ApplyRequest {
            type_name: BUCKET.to_string(),
            address: "aws_s3_bucket.full".to_string(),
            prior: Some(state.clone()),
            planned: None,
            config: Value::Null,
        },
    )
    .await;
    assert_eq!(response.new_state, Some(state));
    assert_eq!(response.diagnostics.len(), 1, "{:?}", response.diagnostics);
    let detail = &response.diagnostics[0].detail;
    assert!(detail.contains("aws_s3_bucket.full"), "{detail}");
    assert!(detail.contains("BucketNotEmpty"), "{detail}");
    assert!(exists(&h, "braid-full").await);
}

const POLICY_V1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::braid-site/*"}]}"#;

#[tokio::test]
async fn bucket_policy_lifecycle() {
    let h = Harness::start().await;
    let (_, bucket) = h
        .apply(
            BUCKET,
            None,
            &config([("bucket", Value::from("braid-site"))]),
        )
        .await;
    let (_, other) = h
        .apply(
            BUCKET,
            None,
            &config([("bucket", Value::from("braid-site-2"))]),
        )
        .await;
    let cfg = config([
        ("bucket", attr(&bucket, "id").clone()),
        ("policy", Value::from(POLICY_V1)),
    ]);

    // At plan time the policy may embed unknown values: it stays unknown.
    let unknown = h
        .plan(POLICY, None, &with(&cfg, "policy", Value::Unknown))
        .await;
    assert_eq!(attr(&unknown.planned, "policy"), &Value::Unknown);

    let (_, state) = h.apply(POLICY, None, &cfg).await;
    assert_eq!(string(&state, "policy"), POLICY_V1);
    h.assert_no_op(POLICY, &state, &cfg).await;

    // The same policy written differently is no change.
    let reformatted = r#"{
      "Statement": {"Resource": ["arn:aws:s3:::braid-site/*"], "Action": ["s3:GetObject"],
                    "Principal": {"AWS": "*"}, "Effect": "Allow"},
      "Version": "2012-10-17"
    }"#;
    h.assert_no_op(
        POLICY,
        &state,
        &with(&cfg, "policy", Value::from(reformatted)),
    )
    .await;

    // In place: another action.
    let v2 = POLICY_V1.replace("s3:GetObject", "s3:ListBucket");
    let updated = with(&cfg, "policy", Value::from(v2.clone()));
    let state = h.update(POLICY, &state, &updated).await;
    let live = h
        .s3()
        .get_bucket_policy()
        .bucket("braid-site")
        .send()
        .await
        .expect("GetBucketPolicy");
    assert!(live.policy().unwrap_or_default().contains("s3:ListBucket"));

    // Drift: the policy replaced out of band.
    h.s3()
        .put_bucket_policy()
        .bucket("braid-site")
        .policy(POLICY_V1)
        .send()
        .await
        .expect("PutBucketPolicy");
    let state = h.restore_drift(POLICY, &state, &updated, "policy").await;

    // Replace: another bucket.
    let moved = with(&updated, "bucket", attr(&other, "id").clone());
    let state = h.replace(POLICY, &state, &moved, &["bucket"]).await;
    assert!(
        h.s3()
            .get_bucket_policy()
            .bucket("braid-site")
            .send()
            .await
            .is_err(),
        "old policy still in place"
    );

    // Deleted out of band, then created again.
    h.s3()
        .delete_bucket_policy()
        .bucket("braid-site-2")
        .send()
        .await
        .expect("DeleteBucketPolicy");
    let state = h.recreate(POLICY, &state, &moved).await;

    h.destroy(POLICY, &state).await;
    assert!(
        h.s3()
            .get_bucket_policy()
            .bucket("braid-site-2")
            .send()
            .await
            .is_err()
    );
    assert_eq!(h.read(POLICY, &state).await, None);
}
