mod authentication;
mod cleanup;
mod disconnect;
mod graph;
mod telemetry;
