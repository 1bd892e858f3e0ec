//! The network of one run: a bridge of its own with traffic between its containers turned off,
//! so that no other container (another case's, another job's on a shared engine) can invoke a
//! function or hold it busy, and no function can reach another. lambda-ci reaches each one on
//! its published port, from the host. Labelled as the run's, and removed with it.

use std::collections::HashMap;

use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::ListNetworksOptions;

use super::{Engine, LABEL, OWNER_LABEL, RUN_LABEL};

/// The bridge driver's option that lets containers of one network talk to each other.
const ICC: &str = "com.docker.network.bridge.enable_icc";

/// Why a run's network could not be made, in words a user can act on.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot create this run's network {name}: {why}")]
pub struct NetworkError {
    pub name: String,
    pub why: String,
}

/// Creates the network of run `run_id`, labelled with `labels`; its name.
pub async fn create(
    engine: &Engine,
    run_id: &str,
    labels: &HashMap<String, String>,
) -> Result<String, NetworkError> {
    let name = format!("lambda-ci-{run_id}");
    let request = NetworkCreateRequest {
        name: name.clone(),
        driver: Some("bridge".into()),
        options: Some(HashMap::from([(ICC.to_string(), "false".to_string())])),
        labels: Some(super::owned_by_me(labels)),
        ..Default::default()
    };
    let mut said = match engine.docker.create_network(request.clone()).await {
        Ok(_) => return Ok(name),
        // Made by an earlier try whose answer was lost: the run's name is its own.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => return Ok(name),
        Err(e) => crate::chain::root_cause(&e).to_string(),
    };
    // Each network takes one of the engine's few address ranges: those of runs on this machine
    // that ended without removing theirs (killed) are given back, and the network tried again.
    if exhausted(&said) && reclaim(engine, None).await > 0 {
        match engine.docker.create_network(request).await {
            Ok(_) => return Ok(name),
            Err(e) => said = crate::chain::root_cause(&e).to_string(),
        }
    }
    Err(NetworkError {
        why: explain(&said),
        name,
    })
}

fn exhausted(said: &str) -> bool {
    said.contains("available, non-overlapping") || said.contains("address pool")
}

/// Removes the networks lambda-ci made on this machine for runs that have ended (of run `only`
/// when given), which no container uses any more (the engine refuses to remove one in use);
/// how many.
pub async fn reclaim(engine: &Engine, only: Option<&str>) -> usize {
    let mut labels = vec![LABEL.to_string()];
    labels.extend(only.map(|run| format!("{RUN_LABEL}={run}")));
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([("label".to_string(), labels)])),
    };
    let Ok(networks) = engine.docker.list_networks(Some(options)).await else {
        return 0;
    };
    let mut removed = 0;
    for network in networks {
        let owner = network.labels.as_ref().and_then(|l| l.get(OWNER_LABEL));
        if let (Some(name), Some(owner)) = (&network.name, owner)
            && super::ended_here(owner)
            && super::owned::remove_network(engine, name).await.is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// What the engine's refusal means, and what to do.
fn explain(said: &str) -> String {
    if exhausted(said) {
        format!(
            "the engine has no address range left for another network ({said}); remove networks nobody uses (`docker network prune`, `lambda-ci clean` for lambda-ci's), or name a network for the function with `network:`"
        )
    } else {
        format!("{said}; or name a network for the function with `network:`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exhausted_address_pool_is_explained_with_what_to_do() {
        let said = "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network";
        let why = explain(said);
        assert!(why.contains("docker network prune"), "{why}");
        assert!(why.contains(said));
        assert!(explain("boom").ends_with("or name a network for the function with `network:`"));
    }
}
