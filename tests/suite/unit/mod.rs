mod authentication;
mod cleanup;
mod disconnect;
mod graph;
mod openapi_check;
mod table_keys;
mod telemetry;
