//! The whole test suite in one binary (one link of the AWS SDKs), in three
//! layers: `unit` (the use case over in-memory fakes), `fixtures` (the API
//! Gateway events in `events/` through the handler), `integration` (the real
//! adapters against moto and a wiremock GitHub).

mod deploy;
mod fixtures;
mod hostile;
mod integration;
mod reliability;
mod support;
mod unit;
