//! What the HTTP edge serves, built once per cold start: the authenticator
//! every route that needs a caller shares, and each route's use case.

use crate::auth::Authenticator;
use crate::disconnect::DisconnectRepository;
use crate::ports::{DependencyError, DisconnectPorts};

pub struct Api<P: DisconnectPorts> {
    pub authenticator: Authenticator<P::SigningKeys>,
    pub disconnect_repository: DisconnectRepository<P>,
}

impl<P: DisconnectPorts> Api<P> {
    /// See `Authenticator::prefetch`.
    pub async fn prefetch_signing_keys(&self) -> Result<(), DependencyError> {
        self.authenticator.prefetch().await
    }
}
