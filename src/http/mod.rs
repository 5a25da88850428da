//! The HTTP edge: the Lambda event, the API's routes and what each runs,
//! credentials, and the mapping to responses.

pub mod api;
mod credentials;
mod handler;
pub mod lambda_event;
pub mod response;
pub mod router;

pub use api::Api;
pub use handler::Handler;
