//! The whole test suite in one binary (one link of the AWS SDKs), in nine
//! parts:
//! - `unit`: the use case, the cleanup worker and the JWT rules over
//!   in-memory fakes;
//! - `fixtures`: every event in `events/` through the handlers;
//! - `integration`: the real adapters against moto, ArcadeDB, Prism and a
//!   wiremock GitHub, over TLS;
//! - `reliability`: the fault and AWS-error matrices, races, slow
//!   dependencies;
//! - `hostile`: the JWT, request and name corpora;
//! - `deploy`: the deployment files against the configuration;
//! - `docs`: every path the Markdown pages name exists;
//! - `alarms`: every alarm of the template against what is published;
//! - `pre_traffic`: the deployment's check of a new version, both verdicts.
//!
//! Helpers are in `support/`; the servers, proxies and certificates in
//! `crates/test-world`.

mod alarms;
mod deploy;
mod docs;
mod fixtures;
mod hostile;
mod integration;
mod pre_traffic;
mod reliability;
mod support;
mod unit;
