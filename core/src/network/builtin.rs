//! The two network types that need no backend crate: `empty` (a network
//! namespace with only `lo`, which the container's first process brings up)
//! and `none` (the host's network namespace is shared). They go through the
//! same start stages as every other NIC, so nothing special-cases them; both
//! make nothing on either side.

use async_trait::async_trait;

use super::{NetContext, Network, NetworkError, NicState};
use crate::config::Nic;

/// A network type with nothing to set up (`empty` or `none`).
#[derive(Debug, Clone, Copy)]
pub struct Unwired(&'static str);

/// `lxc.net.N.type = empty`.
pub const EMPTY: Unwired = Unwired("empty");

/// `lxc.net.N.type = none`: the container shares the host's network.
pub const NONE: Unwired = Unwired("none");

#[async_trait]
impl Network for Unwired {
    fn name(&self) -> &'static str {
        self.0
    }

    fn validate(&self, _nic: &Nic) -> Result<(), NetworkError> {
        Ok(())
    }

    fn container_side(&self) -> bool {
        false
    }

    async fn setup_host(&self, _: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        Ok(NicState {
            index: nic.index,
            ..NicState::default()
        })
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
