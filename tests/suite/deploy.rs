//! The deployment files agree with the configuration the function reads.

use std::fs;
use std::path::Path;

use nectr_disconnect::config::{Config, FromEnvironment};
use serde_json::Value;

/// CONTRACT §7 without the AWS SDK's own variables, and the names of the
/// log and metric settings.
const VARIABLES: [&str; 17] = [
    "TABLE_NAME",
    "JWT_SECRET_ID",
    "KMS_KEY_ID",
    "GITHUB_API_URL",
    "GITHUB_TIMEOUT_MS",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_KEY_TTL_SECONDS",
    "JWT_KEY_STALE_SECONDS",
    "ALLOWED_ORIGINS",
    "CLEANUP_QUEUE_URL",
    "WARM_UP_ON_INIT",
    "NEO4J_URI",
    "NEO4J_SECRET_ID",
    "NEO4J_TIMEOUT_MS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
];

fn read(file: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn env_json_is_a_valid_configuration_for_the_function() {
    let env: Value = serde_json::from_str(&read("env.json")).expect("env.json is JSON");
    let variables = env["DisconnectFunction"]
        .as_object()
        .expect("env.json configures DisconnectFunction");

    let config = Config::from_lookup(|name| variables.get(name)?.as_str().map(str::to_owned));

    assert!(config.is_ok(), "{config:?}");
}

#[test]
fn the_template_sets_every_configuration_variable() {
    let template = read("template.yaml");
    for variable in VARIABLES {
        assert!(
            template.contains(&format!("          {variable}: ")),
            "template.yaml does not set {variable}"
        );
    }
}
