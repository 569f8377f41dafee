//! `aws_iam_role`, `aws_iam_policy` and `aws_iam_role_policy_attachment` against moto_server.

mod common;

use braid_provider::Value;
use common::{Harness, attr, config, string, tags, with};

const ROLE: &str = "aws_iam_role";
const POLICY: &str = "aws_iam_policy";
const ATTACHMENT: &str = "aws_iam_role_policy_attachment";

const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const READ_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}"#;

fn iam(h: &Harness) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&h.sdk)
}

#[tokio::test]
async fn role_lifecycle() {
    let h = Harness::start().await;
    let cfg = config([
        ("name", Value::from("app")),
        ("assume_role_policy", Value::from(TRUST_EC2)),
        ("tags", tags([("team", "web")])),
    ]);
    let (planned, state) = h.apply(ROLE, None, &cfg).await;
    assert_eq!(attr(&planned.planned, "arn"), &Value::Unknown);
    assert!(string(&state, "arn").ends_with(":role/app"), "{state:?}");
    assert_eq!(attr(&state, "max_session_duration"), &Value::from(3600));
    // IAM returns the document URL-encoded and reformatted; state keeps the configured text.
    assert_eq!(string(&state, "assume_role_policy"), TRUST_EC2);
    h.assert_no_op(ROLE, &state, &cfg).await;
    h.assert_import(ROLE, "app", &state).await;
    assert_eq!(
        h.plan(ROLE, None, &cfg).await.existing.as_ref(),
        Some(&state)
    );

    // Single statement object instead of a list, other key order: still no change.
    let same = r#"{"Statement":{"Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"},"Effect":"Allow"},"Version":"2012-10-17"}"#;
    h.assert_no_op(
        ROLE,
        &state,
        &with(&cfg, "assume_role_policy", Value::from(same)),
    )
    .await;

    let updated = with(
        &with(
            &with(&cfg, "description", Value::from("the app")),
            "max_session_duration",
            Value::from(7200),
        ),
        "assume_role_policy",
        Value::from(TRUST_EC2.replace("ec2", "lambda")),
    );
    let state = h.update(ROLE, &state, &updated).await;
    let role = iam(&h)
        .get_role()
        .role_name("app")
        .send()
        .await
        .expect("GetRole");
    let role = role.role().expect("role");
    assert_eq!(role.description(), Some("the app"));
    assert_eq!(role.max_session_duration(), Some(7200));

    // Drift: description changed out of band.
    iam(&h)
        .update_role()
        .role_name("app")
        .description("changed by hand")
        .send()
        .await
        .expect("UpdateRole");
    let state = h.restore_drift(ROLE, &state, &updated, "description").await;

    let renamed = with(&updated, "name", Value::from("app-2"));
    let state = h.replace(ROLE, &state, &renamed, &["name"]).await;
    assert!(iam(&h).get_role().role_name("app").send().await.is_err());

    iam(&h)
        .delete_role()
        .role_name("app-2")
        .send()
        .await
        .expect("DeleteRole");
    let state = h.recreate(ROLE, &state, &renamed).await;

    h.destroy(ROLE, &state).await;
    assert!(iam(&h).get_role().role_name("app-2").send().await.is_err());
}

#[tokio::test]
async fn policy_lifecycle() {
    let h = Harness::start().await;
    let cfg = config([
        ("name", Value::from("read-assets")),
        ("policy", Value::from(READ_BUCKET)),
        ("description", Value::from("reads assets")),
    ]);
    let (_, state) = h.apply(POLICY, None, &cfg).await;
    let arn = string(&state, "arn");
    assert_eq!(string(&state, "id"), arn);
    h.assert_no_op(POLICY, &state, &cfg).await;
    h.assert_import(POLICY, &arn, &state).await;

    // A new document: a new default version; tags in place.
    let updated = with(
        &with(
            &cfg,
            "policy",
            Value::from(READ_BUCKET.replace("s3:GetObject", "s3:ListBucket")),
        ),
        "tags",
        tags([("team", "web")]),
    );
    let state = h.update(POLICY, &state, &updated).await;
    let versions = iam(&h)
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListPolicyVersions");
    assert_eq!(versions.versions().len(), 2);

    // Drift: a new default version made by hand.
    iam(&h)
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(READ_BUCKET)
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion");
    let state = h.restore_drift(POLICY, &state, &updated, "policy").await;

    // The description cannot change in place.
    let described = with(&updated, "description", Value::from("reads assets, v2"));
    let state = h
        .replace(POLICY, &state, &described, &["description"])
        .await;
    // Same name, so the same ARN: the new policy is the one with the new description.
    let arn = string(&state, "arn");
    let live = iam(&h)
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy");
    assert_eq!(
        live.policy().and_then(|p| p.description()),
        Some("reads assets, v2")
    );

    iam(&h)
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("DeletePolicy");
    let state = h.recreate(POLICY, &state, &described).await;

    h.destroy(POLICY, &state).await;
    assert!(
        iam(&h)
            .get_policy()
            .policy_arn(string(&state, "arn"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn attachment_lifecycle() {
    let h = Harness::start().await;
    let role_cfg = config([
        ("name", Value::from("worker")),
        ("assume_role_policy", Value::from(TRUST_EC2)),
    ]);
    h.apply(ROLE, None, &role_cfg).await;
    let (_, one) = h
        .apply(
            POLICY,
            None,
            &config([
                ("name", Value::from("one")),
                ("policy", Value::from(READ_BUCKET)),
            ]),
        )
        .await;
    let (_, two) = h
        .apply(
            POLICY,
            None,
            &config([
                ("name", Value::from("two")),
                ("policy", Value::from(READ_BUCKET)),
            ]),
        )
        .await;
    let attached = |h: &Harness| {
        let client = iam(h);
        async move {
            let mut arns: Vec<String> = client
                .list_attached_role_policies()
                .role_name("worker")
                .send()
                .await
                .expect("ListAttachedRolePolicies")
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect();
            arns.sort();
            arns
        }
    };

    let cfg = config([
        ("role", Value::from("worker")),
        ("policy_arn", attr(&one, "arn").clone()),
    ]);
    // The ARN of a policy not created yet is unknown: the plan keeps it so.
    let unknown = h
        .plan(ATTACHMENT, None, &with(&cfg, "policy_arn", Value::Unknown))
        .await;
    assert_eq!(attr(&unknown.planned, "id"), &Value::Unknown);

    let (_, state) = h.apply(ATTACHMENT, None, &cfg).await;
    assert_eq!(attached(&h).await, vec![string(&one, "arn")]);
    assert_eq!(
        string(&state, "id"),
        format!("worker/{}", string(&one, "arn"))
    );
    h.assert_no_op(ATTACHMENT, &state, &cfg).await;
    h.assert_import(ATTACHMENT, &string(&state, "id"), &state)
        .await;

    // Nothing is updatable in place: another policy replaces the attachment.
    let moved = with(&cfg, "policy_arn", attr(&two, "arn").clone());
    let state = h.replace(ATTACHMENT, &state, &moved, &["policy_arn"]).await;
    assert_eq!(attached(&h).await, vec![string(&two, "arn")]);

    // Detached out of band (drift): gone on refresh, attached again.
    iam(&h)
        .detach_role_policy()
        .role_name("worker")
        .policy_arn(string(&two, "arn"))
        .send()
        .await
        .expect("DetachRolePolicy");
    let state = h.recreate(ATTACHMENT, &state, &moved).await;
    assert_eq!(attached(&h).await, vec![string(&two, "arn")]);

    h.destroy(ATTACHMENT, &state).await;
    assert!(attached(&h).await.is_empty());
}
