//! The HTTP edge: routing, credentials, and the mapping to responses.

mod credentials;
mod handler;
mod response;
mod router;

pub use handler::handle;
