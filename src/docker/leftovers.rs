//! What lambda-ci's runs left on the engine: every container, volume and network with its
//! label, with the run and the process that made it, for `lambda-ci clean`.

use std::collections::HashMap;

use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveVolumeOptions,
};

use super::owned::{remove, remove_network};
use super::{Engine, LABEL, OWNER_LABEL, RUN_LABEL};

/// A container, a volume or a network of lambda-ci's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub kind: Kind,
    /// The container's id, or the volume's or network's name.
    pub id: String,
    /// What a person calls it: the container's name, the volume's, the network's.
    pub name: String,
    pub run: Option<String>,
    /// `host/pid/start` of the process that made it, when it says.
    pub owner: Option<String>,
    /// When it was made, in seconds since the epoch, when the engine says.
    pub created: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Volume,
    Network,
}

/// Every container (running or not), then every volume, then every network, that carries
/// lambda-ci's label: in the order they can be removed.
pub async fn leftovers(engine: &Engine) -> Result<Vec<Leftover>, bollard::errors::Error> {
    let filters = Some(HashMap::from([(
        "label".to_string(),
        vec![LABEL.to_string()],
    )]));
    let containers = engine
        .docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: filters.clone(),
            ..Default::default()
        }))
        .await?;
    let volumes = engine
        .docker
        .list_volumes(Some(ListVolumesOptions {
            filters: filters.clone(),
        }))
        .await?;
    let networks = engine
        .docker
        .list_networks(Some(ListNetworksOptions { filters }))
        .await?;
    let label = |labels: &Option<HashMap<String, String>>, key: &str| {
        labels.as_ref().and_then(|l| l.get(key)).cloned()
    };
    let mut found: Vec<Leftover> = containers
        .into_iter()
        .filter_map(|c| {
            let name = c.names.as_ref().and_then(|n| n.first()).cloned();
            Some(Leftover {
                kind: Kind::Container,
                name: name.unwrap_or_default().trim_start_matches('/').to_string(),
                run: label(&c.labels, RUN_LABEL),
                owner: label(&c.labels, OWNER_LABEL),
                created: c.created,
                id: c.id?,
            })
        })
        .collect();
    found.extend(volumes.volumes.unwrap_or_default().into_iter().map(|v| {
        let labels = Some(v.labels);
        Leftover {
            kind: Kind::Volume,
            id: v.name.clone(),
            name: v.name,
            run: label(&labels, RUN_LABEL),
            owner: label(&labels, OWNER_LABEL),
            created: v
                .created_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp()),
        }
    }));
    found.extend(networks.into_iter().filter_map(|n| {
        let name = n.name?;
        Some(Leftover {
            kind: Kind::Network,
            id: name.clone(),
            name,
            run: label(&n.labels, RUN_LABEL),
            owner: label(&n.labels, OWNER_LABEL),
            created: n
                .created
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp()),
        })
    }));
    Ok(found)
}

/// Removes one leftover (a container with its anonymous volumes); one already gone is not an
/// error.
pub async fn remove_leftover(
    engine: &Engine,
    leftover: &Leftover,
) -> Result<(), bollard::errors::Error> {
    match leftover.kind {
        Kind::Container => remove(engine, &leftover.id).await,
        Kind::Network => remove_network(engine, &leftover.id).await,
        Kind::Volume => match engine
            .docker
            .remove_volume(&leftover.id, None::<RemoveVolumeOptions>)
            .await
        {
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            other => other,
        },
    }
}
