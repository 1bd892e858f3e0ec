//! How artifacts reach this run's containers, and each function's blueprint. `--mount bind`
//! and `--mount copy` say it; for `auto` the run's first container finds out: it boots with its
//! artifacts bind-mounted and shows a small file of them (a [`crate::docker::Witness`]) while
//! RIE in it gets ready. The other containers wait for that answer alone, not for the first one
//! to answer; artifacts with no small file to witness are probed by a throwaway container.

use std::collections::HashMap;
use std::sync::Arc;

use super::Containers;
use crate::backend::Say;
use crate::config::MountMode;
use crate::docker::{self, Delivery, PathProbe};
use crate::event::EventKind;
use crate::plan::WorkerId;
use crate::suite::RuntimeApi;
use crate::suite::Suite;
use crate::worker::{Blueprint, BootError, Placement, Ready, Starter, Unmade, Witnessing, Worker};
use std::sync::atomic::Ordering;

impl Containers {
    /// The first container of `suite`'s function (`id`), booted from its blueprint; when no
    /// container of the run has found out yet how artifacts reach them, this one does.
    pub(super) async fn boot_first(
        &self,
        suite: &Suite,
        image: &str,
        id: WorkerId,
        out: Say<'_>,
    ) -> Result<(Worker, Ready), BootError> {
        loop {
            if let Some(delivery) = self.prepared.delivery.get() {
                let cell = self.prepared.blueprint(&suite.file);
                let made = cell
                    .get_or_init(|| async { self.blueprint(suite, image, *delivery, out).await })
                    .await;
                let blueprint = made.clone()?;
                return Worker::boot(id, &self.engine, &self.owned, blueprint, None).await;
            }
            if self.mount != MountMode::Auto {
                let delivery = self.delivery_as_told(out);
                self.prepared
                    .delivery
                    .get_or_init(|| async { delivery })
                    .await;
                continue;
            }
            // One container finds out at a time; the others wait, then look again.
            let finding = self.prepared.finding.lock().await;
            if self.prepared.delivery.get().is_some() {
                continue;
            }
            let bind = self
                .blueprint(suite, image, Delivery::BindReadOnly, out)
                .await?;
            let Some(witness) = bind.witness() else {
                let probed = self.probe(image, out).await;
                let _ = self.prepared.delivery.set(probed);
                self.keep_bound(suite, bind).await;
                continue;
            };
            let told = Box::new(move |shown: &PathProbe| {
                let (delivery, reason) = decided(shown);
                if self.prepared.delivery.set(delivery).is_ok() {
                    announce(delivery, reason, out);
                }
                drop(finding);
            });
            let witnessing = Witnessing { witness, told };
            let booted = Worker::boot(
                id,
                &self.engine,
                &self.owned,
                bind.clone(),
                Some(witnessing),
            )
            .await;
            match booted {
                // Removed before it served: the run copies, this container too.
                Err(BootError::Unseen(_)) => continue,
                booted => {
                    self.keep_bound(suite, bind).await;
                    return booted;
                }
            }
        }
    }

    /// Keeps `bind`, made before the run knew how artifacts reach the containers, as the
    /// function's blueprint when they are bind-mounted: its layers are not merged again.
    async fn keep_bound(&self, suite: &Suite, bind: Arc<Blueprint>) {
        if self.prepared.delivery.get() == Some(&Delivery::BindReadOnly) {
            let cell = self.prepared.blueprint(&suite.file);
            cell.get_or_init(|| async { Ok(bind) }).await;
        }
    }

    /// What `--mount bind` or `--mount copy` says, announced.
    fn delivery_as_told(&self, out: Say<'_>) -> Delivery {
        let (delivery, reason) = match self.mount {
            MountMode::Copy => (Delivery::Copy, "--mount copy"),
            _ => (Delivery::BindReadOnly, "--mount bind"),
        };
        announce(delivery, reason.to_string(), out);
        delivery
    }

    /// What a throwaway container with `image` (one that is ready) finds, announced.
    async fn probe(&self, image: &str, out: Say<'_>) -> Delivery {
        let labels = HashMap::from([
            (docker::LABEL.to_string(), "1".to_string()),
            (docker::RUN_LABEL.to_string(), self.run_id.clone()),
        ]);
        let name = format!("lambda-ci-{}-probe", self.run_id);
        let shown =
            docker::probe_local_paths(&self.engine, &self.owned, image, &name, &labels).await;
        let (delivery, reason) = decided(&shown);
        announce(delivery, reason, out);
        delivery
    }

    /// What every container of `suite`'s function is made from.
    pub(super) async fn blueprint(
        &self,
        suite: &Suite,
        image: &str,
        delivery: Delivery,
        out: Say<'_>,
    ) -> Result<Arc<Blueprint>, Unmade> {
        let starter = self.starter(suite, image, out).await;
        let own_network = self.engine.own_network.as_deref();
        // A function on no network of the suite's or lambda-ci's joins the run's own.
        let run_network = match (&suite.function.network, own_network) {
            (None, None) => Some(self.owned.network(&self.engine, &self.run_id).await?),
            (Some(host), _) if host == "host" => {
                self.host_network(&starter, own_network).await?;
                None
            }
            _ => None,
        };
        let placement = Placement {
            image,
            delivery,
            invoke_host: &self.invoke_host,
            own_network,
            run_network: run_network.as_deref(),
            starter: &starter,
        };
        let credentials = self.credentials.unwrap_or(suite.function.aws_credentials);
        Blueprint::new(
            &suite.function,
            placement,
            &self.unpacked,
            (credentials, &self.caller),
            &suite.file,
            &self.run_id,
        )
        .map(Arc::new)
        .map_err(|e| Unmade::Layers(Arc::new(e)))
    }
}

impl Containers {
    /// Whether a function can share the host's network here: only under lambda-ci's agent (RIE
    /// listens on one fixed port, and the engine publishes none on the host's network), and
    /// only with an engine whose host's loopback is this process's.
    async fn host_network(
        &self,
        starter: &Starter,
        own_network: Option<&str>,
    ) -> Result<(), Unmade> {
        let why = if matches!(starter, Starter::Rie) {
            "under RIE (`runtime_api: rie`, or where lambda-ci's agent cannot run) the container listens on one fixed port and the engine publishes none on the host's network; use lambda-ci's agent (the default)".to_string()
        } else if own_network.is_some() {
            "lambda-ci runs in a container of its own, whose loopback is not the engine host's; join a user-defined network by its name instead".to_string()
        } else if !docker::is_loopback(&self.invoke_host) {
            "the engine does not run on this machine, so its host's network is not this machine's; join a user-defined network by its name instead".to_string()
        } else if let Some(elsewhere) = self.engine.host_elsewhere().await {
            format!(
                "{elsewhere}; join a user-defined network by its name, or reach a service on this machine with `add_hosts: {{name: host-gateway}}`"
            )
        } else {
            return Ok(());
        };
        Err(Unmade::HostNetwork(why))
    }

    /// What starts `suite`'s runtime: lambda-ci's agent unless `--runtime-api` or the suite
    /// asks for RIE, or the agent cannot run there (said once per run).
    async fn starter(&self, suite: &Suite, image: &str, out: Say<'_>) -> Starter {
        let asked = self.runtime_api.or(suite.runtime_api).unwrap_or_default();
        if asked == RuntimeApi::Rie {
            return Starter::Rie;
        }
        let fallback = |reason: String| {
            if !self.prepared.fell_back.swap(true, Ordering::Relaxed) {
                out(EventKind::RuntimeApiFallback { reason });
            }
            Starter::Rie
        };
        if let Some(why) = crate::worker::agent_unavailable(suite.function.architecture) {
            return fallback(why);
        }
        let written = self
            .prepared
            .agent
            .get_or_init(|| async {
                crate::worker::AgentOnDisk::write(self.keep).map_err(|e| {
                    format!(
                        "lambda-ci's agent cannot be written to {} ({e}); functions run under the base image's RIE",
                        crate::scratch::root().display()
                    )
                })
            })
            .await;
        let dir = match written {
            Ok(written) => written.path().to_path_buf(),
            Err(why) => return fallback(why.clone()),
        };
        match docker::launch(&self.engine, image).await {
            Ok((entrypoint, cmd)) => Starter::Agent {
                dir,
                entrypoint,
                cmd,
            },
            Err(e) => {
                let why = match self.engine.gone_message(&e) {
                    Some(gone) => format!(": {gone}"),
                    None => format!(" ({e})"),
                };
                fallback(format!(
                    "image {image} could not be inspected for its entrypoint{why}; its function runs under RIE"
                ))
            }
        }
    }
}

/// The delivery a probe's finding calls for, and why.
fn decided(shown: &PathProbe) -> (Delivery, String) {
    match shown {
        PathProbe::Seen => (
            Delivery::BindReadOnly,
            "the engine sees this machine's files".to_string(),
        ),
        PathProbe::Unseen(why) => (
            Delivery::Copy,
            format!("the engine cannot see this machine's files: {why}"),
        ),
    }
}

/// Says once in the run how artifacts reach the containers, and why.
fn announce(delivery: Delivery, reason: String, out: Say<'_>) {
    out(EventKind::ArtifactsDelivered {
        copied: delivery == Delivery::Copy,
        reason,
    });
}
