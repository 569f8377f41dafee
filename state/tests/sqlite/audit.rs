//! The apply audit log: applies and their per-resource changes.

use braid_provider::Value;
use braid_state::{
    ApplyOutcome, ChangeAction, ChangeOutcome, ChangeSummary, ResourceWrite, StateStore,
};
use chrono::Utc;

use crate::{change, new_apply, open, record};

#[tokio::test]
async fn the_audit_log_round_trips_newest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let first = store
        .begin_apply(new_apply("apply", None))
        .await
        .expect("begin first");
    let second = store
        .begin_apply(new_apply("rollback", Some(first)))
        .await
        .expect("begin second");
    assert!(second > first);

    // Changes of two applies interleave; each apply keeps its own order.
    let mut failed = change("b.two", ChangeAction::Update, ChangeOutcome::Failed);
    failed.message = Some("permission denied".into());
    let writes = [
        (
            first,
            change("a.one", ChangeAction::Create, ChangeOutcome::Applied),
        ),
        (
            second,
            change("z.last", ChangeAction::Delete, ChangeOutcome::Applied),
        ),
        (first, failed.clone()),
        (
            first,
            change("c.three", ChangeAction::Replace, ChangeOutcome::Skipped),
        ),
    ];
    for (serial, (apply, entry)) in (0u64..).zip(writes.iter().cloned()) {
        let write = ResourceWrite {
            address: entry.address.clone(),
            record: Some(record(&entry.address, Value::Null)),
            change: Some((apply, entry)),
        };
        store.commit_resource(serial, write).await.expect("commit");
    }

    let summary = ChangeSummary {
        create: 1,
        update: 1,
        replace: 1,
        failed: 1,
        ..ChangeSummary::default()
    };
    let before_finish = Utc::now();
    store
        .finish_apply(first, summary, ApplyOutcome::Failed)
        .await
        .expect("finish");

    let reopened = open(&dir);
    let log = reopened.applies(10).await.expect("applies");
    assert_eq!(
        log.iter().map(|a| a.id).collect::<Vec<_>>(),
        [second, first]
    );

    let running = &log[0];
    let expected_start = new_apply("rollback", Some(first));
    assert_eq!(running.operation, "rollback");
    assert_eq!(running.rollback_of, Some(first));
    assert_eq!(running.outcome, ApplyOutcome::Running);
    assert_eq!(running.finished_at, None);
    assert_eq!(running.summary, ChangeSummary::default());
    assert_eq!(
        running.started_at, expected_start.started_at,
        "nanoseconds survive"
    );
    assert_eq!(running.sources, expected_start.sources);

    let finished = &log[1];
    assert_eq!(finished.env, "staging");
    assert_eq!(finished.actor, "alice");
    assert_eq!(finished.rollback_of, None);
    assert_eq!(finished.outcome, ApplyOutcome::Failed);
    assert_eq!(finished.summary, summary);
    let finished_at = finished.finished_at.expect("finished_at is set");
    assert!(finished_at >= before_finish && finished_at <= Utc::now());

    assert_eq!(reopened.applies(1).await.expect("applies").len(), 1);
    assert_eq!(
        reopened.apply_record(first).await.expect("record"),
        Some(finished.clone())
    );
    assert_eq!(reopened.apply_record(12345).await.expect("record"), None);

    assert_eq!(
        reopened.changes(first).await.expect("changes"),
        vec![writes[0].1.clone(), failed, writes[3].1.clone()]
    );
    assert_eq!(
        reopened.changes(second).await.expect("changes"),
        vec![writes[1].1.clone()]
    );

    assert!(
        reopened
            .finish_apply(12345, summary, ApplyOutcome::Succeeded)
            .await
            .is_err()
    );
}
