//! The two network types that need no backend crate: `empty` (a network
//! namespace with only `lo`, which the container's first process brings up)
//! and `none` (the host's network namespace is shared). They go through the
//! same start stages as every other NIC, so nothing special-cases them.

use async_trait::async_trait;

use super::{NetContext, Network, NetworkError, NicState};
use crate::config::Nic;

/// `lxc.net.N.type = empty`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Empty;

/// `lxc.net.N.type = none`: the container shares the host's network.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostShared;

fn state(nic: &Nic) -> NicState {
    NicState {
        index: nic.index,
        ..NicState::default()
    }
}

#[async_trait]
impl Network for Empty {
    fn name(&self) -> &'static str {
        "empty"
    }

    fn validate(&self, _nic: &Nic) -> Result<(), NetworkError> {
        Ok(())
    }

    fn container_side(&self) -> bool {
        false
    }

    async fn setup_host(&self, _: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        Ok(state(nic))
    }

    async fn setup_container(
        &self,
        _: NetContext<'_>,
        _: &Nic,
        _: &NicState,
    ) -> Result<(), NetworkError> {
        Ok(())
    }

    async fn teardown(&self, _: NetContext<'_>, _: &Nic, _: &NicState) -> Vec<NetworkError> {
        Vec::new()
    }
}

#[async_trait]
impl Network for HostShared {
    fn name(&self) -> &'static str {
        "none"
    }

    fn validate(&self, _nic: &Nic) -> Result<(), NetworkError> {
        Ok(())
    }

    fn container_side(&self) -> bool {
        false
    }

    async fn setup_host(&self, _: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        Ok(state(nic))
    }

    async fn setup_container(
        &self,
        _: NetContext<'_>,
        _: &Nic,
        _: &NicState,
    ) -> Result<(), NetworkError> {
        Ok(())
    }

    async fn teardown(&self, _: NetContext<'_>, _: &Nic, _: &NicState) -> Vec<NetworkError> {
        Vec::new()
    }
}
