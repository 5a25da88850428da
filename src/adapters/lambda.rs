//! `FunctionInvoker` over AWS Lambda's Invoke API: the pre-traffic check
//! calls the version being deployed, synchronously (CONTRACT §11).

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::primitives::Blob;

use crate::ports::{FunctionInvoker, InvokeError, Invoked};

/// Built by `wiring::lambda_invoker`, whose client neither cuts an
/// invocation short nor retries it: an attempt abandoned while the version
/// still runs would start it again beside itself.
#[derive(Clone)]
pub struct LambdaInvoker {
    client: Client,
}

impl LambdaInvoker {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl FunctionInvoker for LambdaInvoker {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Invoked, InvokeError> {
        let output = self
            .client
            .invoke()
            .function_name(function)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| {
                // Lambda throttles before it runs anything: nothing of
                // this invocation is running.
                let throttled = e
                    .as_service_error()
                    .is_some_and(|e| e.is_too_many_requests_exception());
                let cause = DisplayErrorContext(e).to_string().into();
                if throttled {
                    InvokeError::Throttled(cause)
                } else {
                    InvokeError::Failed(cause)
                }
            })?;
        Ok(Invoked {
            function_error: output.function_error,
            payload: output.payload.map(Blob::into_inner).unwrap_or_default(),
        })
    }
}
