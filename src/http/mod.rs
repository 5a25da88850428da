//! The HTTP edge: the Lambda event, routing, credentials, and the mapping
//! to responses.

mod api;
mod credentials;
mod handler;
pub mod lambda_event;
pub mod response;
pub mod router;

pub use api::Api;
pub use handler::Handler;
