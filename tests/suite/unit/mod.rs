mod authentication;
mod disconnect;
mod graph;
mod telemetry;
