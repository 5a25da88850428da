//! `DeploymentReporter` over CodeDeploy: the pre-traffic check's verdict,
//! by `PutLifecycleEventHookExecutionStatus` (CONTRACT §11).

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::error::DisplayErrorContext;
use aws_sdk_codedeploy::types::LifecycleEventStatus;

use crate::ports::{BoxError, DeploymentReporter, HookStatus};

#[derive(Clone)]
pub struct CodeDeployReporter {
    client: Client,
}

impl CodeDeployReporter {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl DeploymentReporter for CodeDeployReporter {
    async fn report(
        &self,
        deployment_id: &str,
        execution_id: &str,
        status: HookStatus,
    ) -> Result<(), BoxError> {
        let status = match status {
            HookStatus::Succeeded => LifecycleEventStatus::Succeeded,
            HookStatus::Failed => LifecycleEventStatus::Failed,
        };
        self.client
            .put_lifecycle_event_hook_execution_status()
            .deployment_id(deployment_id)
            .lifecycle_event_hook_execution_id(execution_id)
            .status(status)
            .send()
            .await
            .map(drop)
            .map_err(|e| DisplayErrorContext(e).to_string().into())
    }
}
