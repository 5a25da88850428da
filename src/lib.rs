//! nectr-disconnect: the Lambda behind
//! `DELETE /api/v1/repos/{owner}/{repo}/install`.
//!
//! Hexagonal: `disconnect` is the use case over the traits in `ports`;
//! `adapters` implement them for AWS and GitHub; `http` turns Lambda events
//! into use-case calls and outcomes into responses; `wiring` wires it together
//! and `warm_up` does its first network work during init. `queue` is the
//! cleanup worker's entry, `pre_traffic` the deployment's check of a new
//! version.

pub mod adapters;
pub mod auth;
pub mod cleanup;
pub mod config;
pub mod disconnect;
pub mod domain;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod ports;
pub mod pre_traffic;
pub mod queue;
pub mod speculative_read;
pub mod timeouts;
pub mod tls;
pub mod warm_up;
pub mod wiring;
