mod authentication;
mod cleanup;
mod disconnect;
mod graph;
mod table_keys;
mod telemetry;
