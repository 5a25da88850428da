//! `FunctionInvoker` over AWS Lambda's Invoke API: the pre-traffic check
//! calls the version being deployed, synchronously (CONTRACT §11).

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::primitives::Blob;

use crate::ports::{BoxError, FunctionInvoker, Invoked};

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
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Invoked, BoxError> {
        let output = self
            .client
            .invoke()
            .function_name(function)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        Ok(Invoked {
            function_error: output.function_error,
            payload: output.payload.map(Blob::into_inner).unwrap_or_default(),
        })
    }
}
