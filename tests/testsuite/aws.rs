//! The aws provider through the `braid` binary, against moto_server on a free 127.0.0.1 port:
//! apply, a no-op plan, drift made behind braid's back, and destroy. What exists is checked
//! with plain HTTP requests to moto (which does not check signatures).
//!
//! moto_server comes from `BRAID_MOTO_SERVER`, PATH or the virtualenv scripts/test.sh makes;
//! without it the test fails.

use crate::common::{Project, copy_dir, fixtures_dir};
use braid_testkit::{MOTO_CREDENTIALS, MotoServer};

#[test]
fn apply_plan_drift_and_destroy_against_moto() {
    let moto = MotoServer::start();
    let project = Project::with_files(&[(
        "braid.hcl",
        &format!(
            "source \"infra\" {{ path = \".\" }}\n\nenvironment \"dev\" {{}}\n\n\
             provider \"aws\" {{\n  region   = \"us-east-1\"\n  endpoint = \"{}\"\n}}\n",
            moto.endpoint()
        ),
    )]);
    copy_dir(&fixtures_dir().join("aws"), project.path());

    let planned = project.braid_env(&["--env", "dev", "plan"], MOTO_CREDENTIALS);
    planned.success();
    assert!(
        planned.stdout.contains("Plan: 4 to add"),
        "{}",
        planned.all()
    );
    assert!(
        planned.stdout.contains("(known after apply)"),
        "{}",
        planned.all()
    );

    let applied = project.braid_env(
        &["--env", "dev", "apply", "--auto-approve"],
        MOTO_CREDENTIALS,
    );
    applied.success();
    let (status, _) = moto.request_to("s3", "HEAD", "/braid-cli-assets");
    assert_eq!(status, 200, "bucket not created");
    let (status, policy) = moto.request_to("s3", "GET", "/braid-cli-assets?policy");
    assert_eq!(status, 200, "policy not put: {policy}");
    assert!(
        policy.contains("arn:aws:s3:::braid-cli-assets/*"),
        "{policy}"
    );
    let (_, queues) = moto.request_to("sqs", "GET", "/?Action=ListQueues");
    assert!(queues.contains("braid-cli-jobs"), "{queues}");

    let again = project.braid_env(
        &["--env", "dev", "plan", "--detailed-exitcode"],
        MOTO_CREDENTIALS,
    );
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    // Drift: the policy deleted behind braid's back shows in the plan and apply restores it.
    let (status, _) = moto.request_to("s3", "DELETE", "/braid-cli-assets?policy");
    assert_eq!(status, 204);
    let drifted = project.braid_env(
        &["--env", "dev", "plan", "--detailed-exitcode"],
        MOTO_CREDENTIALS,
    );
    drifted.expect_code(2);
    assert!(
        drifted.stdout.contains("aws_s3_bucket_policy.assets"),
        "{}",
        drifted.all()
    );
    project
        .braid_env(
            &["--env", "dev", "apply", "--auto-approve"],
            MOTO_CREDENTIALS,
        )
        .success();
    assert_eq!(
        moto.request_to("s3", "GET", "/braid-cli-assets?policy").0,
        200
    );
    project
        .braid_env(
            &["--env", "dev", "plan", "--detailed-exitcode"],
            MOTO_CREDENTIALS,
        )
        .expect_code(0);

    project
        .braid_env(
            &["--env", "dev", "destroy", "--auto-approve"],
            MOTO_CREDENTIALS,
        )
        .success();
    assert_eq!(
        moto.request_to("s3", "HEAD", "/braid-cli-assets").0,
        404,
        "bucket not deleted"
    );
    let (_, queues) = moto.request_to("sqs", "GET", "/?Action=ListQueues");
    assert!(!queues.contains("braid-cli-jobs"), "{queues}");
}
