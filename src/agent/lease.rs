//! Which agent replica reconciles which environment: a lease kept in the environment's
//! state backend, beside its lock.
//!
//! Every replica writes a *member* document into each environment's store
//! (`agent/members/<replica>`), renewed every third of the heartbeat period, and the replica
//! that owns the environment holds its *lease* document (`agent/lease`), renewed as often.
//! Both are written with compare-and-swap on their version ([`StateStore::put_document`]),
//! so two replicas can never both take or renew the same lease.
//!
//! A document is *stale* when its version has not changed for one heartbeat period, as
//! timed by the replica looking at it (its own clock; clocks of different machines are
//! never compared). Among the live members, the environment belongs to the one with the
//! highest rendezvous score (a hash of replica and environment), which spreads environments
//! over replicas and moves few of them when replicas come and go:
//! - a free lease is taken by that replica;
//! - a stale lease (its holder died) is taken over by it;
//! - a holder that is no longer the chosen one (a replica joined) hands the lease over by
//!   releasing it between cycles.
//!
//! A replica that dies just after renewing is seen stale one period later, and the next
//! tick (a third of a period) takes over: well within two heartbeat periods.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use braid_state::{Document, Precondition, StateError, StateStore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The default heartbeat period (`braid agent --heartbeat`).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);
/// The lease document's name.
pub const LEASE_DOCUMENT: &str = "agent/lease";
/// The prefix of member documents.
pub const MEMBERS_PREFIX: &str = "agent/members/";
/// Member documents stale for this many periods are deleted (a replica that is gone).
const FORGET_AFTER_PERIODS: u32 = 30;

/// What the lease and member documents hold: who, and for the status page since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    /// The replica's id (`braid agent --replica-id`).
    pub replica: String,
    /// Its host name and process id.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it took the lease (or joined, for a member document).
    pub since: DateTime<Utc>,
    /// Renewals so far: every write differs, so its version changes (S3's ETag is a hash of
    /// the bytes).
    pub renewals: u64,
}

/// Where an environment's lease stands for this replica after a tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ownership {
    /// This replica holds the lease: it may reconcile the environment.
    pub held: bool,
    /// The replica holding the lease, if any.
    pub holder: Option<String>,
    /// The live replicas this one sees for the environment (itself included).
    pub replicas: usize,
}

/// One environment's lease, as one replica keeps it.
pub struct EnvLease {
    store: Arc<dyn StateStore>,
    env: String,
    me: LeaseHolder,
    heartbeat: Duration,
    /// The version of the lease document this replica wrote last, while it holds it.
    held: Option<String>,
    /// When this replica last wrote the lease document.
    renewed: Option<Instant>,
    /// For each document seen: its version and since when (our clock) it has had it.
    observed: BTreeMap<String, (String, Instant)>,
}

impl EnvLease {
    /// The lease of `env` in `store`, for replica `replica`.
    pub fn new(
        store: Arc<dyn StateStore>,
        env: &str,
        replica: &str,
        heartbeat: Duration,
    ) -> EnvLease {
        EnvLease {
            store,
            env: env.to_string(),
            me: LeaseHolder {
                replica: replica.to_string(),
                host: crate::actor::host(),
                pid: std::process::id(),
                since: Utc::now(),
                renewals: 0,
            },
            heartbeat,
            held: None,
            renewed: None,
            observed: BTreeMap::new(),
        }
    }

    /// How often [`tick`](EnvLease::tick) should run: a third of the heartbeat period.
    pub fn tick_interval(&self) -> Duration {
        self.heartbeat / 3
    }

    /// Whether this replica holds the lease and renewed it within the heartbeat period: no
    /// other replica can have taken it over.
    pub fn is_held(&self) -> bool {
        self.held.is_some() && self.renewed.is_some_and(|t| t.elapsed() < self.heartbeat)
    }

    /// Renews this replica's membership, then takes, renews, hands over or leaves the
    /// lease. `busy`: a cycle is running, so a lease held is kept even if another replica
    /// should have it (it is handed over after the cycle).
    pub async fn tick(&mut self, busy: bool) -> Result<Ownership, StateError> {
        self.me.renewals += 1;
        let member = format!("{MEMBERS_PREFIX}{}", self.me.replica);
        self.store
            .put_document(&member, &body(&self.me), Precondition::Any)
            .await?;
        let members = self.store.documents(MEMBERS_PREFIX).await?;
        let mut live: Vec<String> = Vec::new();
        for doc in &members {
            let name = doc.name.strip_prefix(MEMBERS_PREFIX).unwrap_or(&doc.name);
            let unchanged_for = self.observe(doc);
            if name == self.me.replica || unchanged_for < self.heartbeat {
                live.push(name.to_string());
            } else if unchanged_for >= self.heartbeat * FORGET_AFTER_PERIODS {
                // Gone for long: tidy up. Someone else may have done it already.
                let _ = self
                    .store
                    .delete_document(&doc.name, Precondition::Version(&doc.version))
                    .await;
            }
        }
        let chosen = live
            .iter()
            .max_by_key(|replica| score(replica, &self.env))
            .cloned();
        // A replica's first tick only announces it: the replicas starting with it are not
        // all seen yet, and claiming every environment only to hand most over is churn.
        let settling = self.me.renewals == 1;
        let mine = !settling && chosen.as_deref() == Some(self.me.replica.as_str());
        let lease = self.store.document(LEASE_DOCUMENT).await?;
        let holder = lease
            .as_ref()
            .and_then(|doc| serde_json::from_slice::<LeaseHolder>(&doc.body).ok());
        let holder_name = holder.as_ref().map(|h| h.replica.clone());
        let result = match (&lease, &holder) {
            (None, _) => {
                if mine {
                    self.write(Precondition::Absent, Utc::now()).await?;
                }
                self.held.is_some()
            }
            (Some(doc), Some(h)) if h.replica == self.me.replica => {
                if !mine && !busy {
                    // Hand over: the chosen replica takes it at its next tick.
                    self.held = None;
                    self.renewed = None;
                    match self
                        .store
                        .delete_document(LEASE_DOCUMENT, Precondition::Version(&doc.version))
                        .await
                    {
                        Ok(()) | Err(StateError::DocumentChanged(_)) => {}
                        Err(e) => return Err(e),
                    }
                } else {
                    self.write(Precondition::Version(&doc.version), h.since)
                        .await?;
                }
                self.held.is_some()
            }
            (Some(doc), _) => {
                // Another holder (or a document that does not decode: taken over the same
                // way once it stops changing).
                self.held = None;
                let stale = self.observe(doc) >= self.heartbeat;
                if stale && mine {
                    self.write(Precondition::Version(&doc.version), Utc::now())
                        .await?;
                }
                self.held.is_some()
            }
        };
        Ok(Ownership {
            held: result,
            holder: if result {
                Some(self.me.replica.clone())
            } else {
                holder_name.filter(|h| *h != self.me.replica)
            },
            replicas: live.len(),
        })
    }

    /// Gives the lease up and leaves the members (the agent stops): another replica takes
    /// the environment over at its next tick instead of after a heartbeat period.
    pub async fn release(&mut self) -> Result<(), StateError> {
        if let Some(version) = self.held.take() {
            match self
                .store
                .delete_document(LEASE_DOCUMENT, Precondition::Version(&version))
                .await
            {
                Ok(()) | Err(StateError::DocumentChanged(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.store
            .delete_document(
                &format!("{MEMBERS_PREFIX}{}", self.me.replica),
                Precondition::Any,
            )
            .await
    }

    /// Writes the lease document as this replica's; on a lost race, this replica does not
    /// hold it.
    async fn write(
        &mut self,
        precondition: Precondition<'_>,
        since: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let holder = LeaseHolder {
            since,
            ..self.me.clone()
        };
        match self
            .store
            .put_document(LEASE_DOCUMENT, &body(&holder), precondition)
            .await
        {
            Ok(version) => {
                self.held = Some(version);
                self.renewed = Some(Instant::now());
                Ok(())
            }
            Err(StateError::DocumentChanged(_)) => {
                self.held = None;
                self.renewed = None;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Notes the document's version and returns for how long (our clock) it has had it.
    fn observe(&mut self, doc: &Document) -> Duration {
        let entry = self
            .observed
            .entry(doc.name.clone())
            .or_insert_with(|| (doc.version.clone(), Instant::now()));
        if entry.0 != doc.version {
            *entry = (doc.version.clone(), Instant::now());
        }
        entry.1.elapsed()
    }
}

fn body(holder: &LeaseHolder) -> Vec<u8> {
    serde_json::to_vec(holder).expect("a lease holder always serializes")
}

/// The rendezvous score of `replica` for `env`: the replica with the highest score among
/// the live ones owns the environment.
fn score(replica: &str, env: &str) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(replica.as_bytes())
        .chain_update([0])
        .chain_update(env.as_bytes())
        .finalize()
        .into()
}

/// A replica id unique to this process: the host name, the process id and a random
/// suffix (a restarted container keeps its host name and pid 1).
pub fn default_replica_id() -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}-{}-{}",
        crate::actor::host(),
        std::process::id(),
        &suffix[..6]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two replicas on one SQLite state: never both holders; one stopping hands over at
    /// the other's next tick; one going silent is taken over after a heartbeat period.
    #[tokio::test]
    async fn one_holder_at_a_time_and_takeover() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let open = || -> Arc<dyn StateStore> {
            Arc::new(braid_state::SqliteStore::open(&path).expect("open"))
        };
        let heartbeat = Duration::from_millis(600);
        let mut a = EnvLease::new(open(), "prod", "a", heartbeat);
        let mut b = EnvLease::new(open(), "prod", "b", heartbeat);
        let mut held_by = Vec::new();
        for round in 0..6 {
            let oa = a.tick(false).await.expect("tick a");
            let ob = b.tick(false).await.expect("tick b");
            assert!(!(a.is_held() && b.is_held()), "both hold the lease");
            // a's first tick came before b had announced itself.
            assert_eq!(
                (oa.replicas, ob.replicas),
                (if round == 0 { 1 } else { 2 }, 2)
            );
            held_by.push((oa.held, ob.held));
        }
        // Settled on the replica with the higher score for "prod", the other one waits.
        let (first, second) = if a.is_held() {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        assert!(first.is_held(), "{held_by:?}");
        assert_eq!(
            second.tick(false).await.expect("tick").holder.as_deref(),
            Some(first.me.replica.as_str())
        );
        // The holder stops: the other takes over at its next tick.
        first.release().await.expect("release");
        let taken = second.tick(false).await.expect("tick");
        assert!(taken.held && second.is_held(), "{taken:?}");
        // The new holder goes silent: after a heartbeat period without renewal the first
        // one (joining again) takes over.
        let mut again = EnvLease::new(open(), "prod", &first.me.replica.clone(), heartbeat);
        again.tick(false).await.expect("settling tick");
        let waiting = again.tick(false).await.expect("tick");
        assert!(
            !waiting.held,
            "the lease of a live holder is not taken: {waiting:?}"
        );
        let started = Instant::now();
        loop {
            tokio::time::sleep(heartbeat / 3).await;
            if again.tick(false).await.expect("tick").held {
                break;
            }
            assert!(started.elapsed() < heartbeat * 2, "not taken over");
        }
        assert!(
            started.elapsed() >= heartbeat,
            "taken over before the lease went stale"
        );
        // The silent one learns it lost the lease at its next tick.
        assert!(!second.tick(true).await.expect("tick").held);
        assert!(!second.is_held());
    }

    #[test]
    fn environments_spread_over_replicas() {
        let replicas = ["a-1", "b-2", "c-3"];
        let mut owners = BTreeMap::new();
        for env in 0..60 {
            let env = format!("env-{env}");
            let owner = replicas
                .iter()
                .max_by_key(|r| score(r, &env))
                .expect("replicas");
            *owners.entry(*owner).or_insert(0) += 1;
        }
        assert_eq!(owners.len(), 3, "{owners:?}");
        assert!(owners.values().all(|n| *n >= 10), "{owners:?}");
    }
}
