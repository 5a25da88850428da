//! The AWS side of the scripts' and the bench's world: the table, key
//! alias, secrets and cleanup queue env.json names, created in the AWS at
//! hand (moto) and holding the fixtures' state (tests/fixture-state.json).

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nectr_disconnect::config;
use serde_json::{Value, json};

use crate::fixture_state::fixture_state;
use crate::jwt::FIXTURE_KEY;
use crate::seed::{self, Installation, Item, ItemKey};

/// What env.json names, as the functions are configured locally.
pub struct LocalAws {
    pub table: String,
    pub jwt_secret_id: String,
    pub kms_key_alias: String,
    pub neo4j_secret_id: String,
    pub cleanup_queue: String,
    pub dead_letter_queue: String,
}

/// env.json: each function's variables, as `sam local --env-vars` reads it.
pub fn env_json() -> serde_json::Map<String, Value> {
    match serde_json::from_str(include_str!("../../../env.json")) {
        Ok(Value::Object(functions)) => functions,
        _ => panic!("env.json maps each function to its variables"),
    }
}

/// env.json's variables of the disconnect, by name.
pub fn disconnect_env() -> serde_json::Map<String, Value> {
    match env_json().remove("DisconnectFunction") {
        Some(Value::Object(variables)) => variables,
        _ => panic!("env.json has DisconnectFunction's variables"),
    }
}

impl LocalAws {
    pub fn from_env_json() -> Self {
        let env = disconnect_env();
        let variable = |name: &str| {
            env.get(name)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("env.json's DisconnectFunction sets {name}"))
                .to_owned()
        };
        let queue_url = variable(config::CLEANUP_QUEUE_URL);
        let cleanup_queue = queue_url
            .rsplit('/')
            .next()
            .expect("a queue URL ends in the queue's name")
            .to_owned();
        Self {
            table: variable(config::TABLE_NAME),
            jwt_secret_id: variable(config::JWT_SECRET_ID),
            kms_key_alias: variable(config::KMS_KEY_ID),
            neo4j_secret_id: variable(config::NEO4J_SECRET_ID),
            dead_letter_queue: format!("{cleanup_queue}-dlq"),
            cleanup_queue,
        }
    }

    /// Creates everything and writes the fixtures' state: the fixtures'
    /// user with their OAuth token encrypted, and every installation. The
    /// signing secret holds the fixtures' key, so the events in events/
    /// verify; the Neo4j secret holds `neo4j_password` for the fixtures'
    /// graph. Returns the cleanup queue's URL.
    pub async fn seed(&self, config: &SdkConfig, neo4j_password: &str) -> String {
        let dynamodb = aws_sdk_dynamodb::Client::new(config);
        let kms = aws_sdk_kms::Client::new(config);
        let secrets = aws_sdk_secretsmanager::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let state = fixture_state();

        seed::create_table(&dynamodb, &self.table).await;
        let key_id = seed::create_key(&kms).await;
        kms.create_alias()
            .alias_name(&self.kms_key_alias)
            .target_key_id(&key_id)
            .send()
            .await
            .expect("the key alias is created");
        let signing_key = String::from_utf8(FIXTURE_KEY.to_vec()).expect("the key is text");
        let credentials =
            json!({"username": crate::arcadedb::USERNAME, "password": neo4j_password});
        for (name, value) in [
            (&self.jwt_secret_id, signing_key),
            (&self.neo4j_secret_id, credentials.to_string()),
        ] {
            secrets
                .create_secret()
                .name(name)
                .secret_string(value)
                .send()
                .await
                .expect("the secret is created");
        }
        let (cleanup_queue_url, _) =
            seed::create_cleanup_queues(&sqs, &self.cleanup_queue, &self.dead_letter_queue).await;

        let token = seed::encrypt_token(&kms, &key_id, &state.user, &state.oauth_token).await;
        let user = seed::user_item(&state.user, &state.github_login, Some(&token));
        seed::put(&dynamodb, &self.table, user).await;
        for installation in &state.installations {
            let item = Installation {
                user: &state.user,
                repo_full_name: &installation.repo,
                installation_id: &installation.installation_id,
                webhook_id: installation.webhook_id,
                installed_at: &state.installed_at,
                disconnected_at: installation.disconnected_at.as_deref(),
            }
            .item();
            seed::put(&dynamodb, &self.table, item).await;
        }
        cleanup_queue_url
    }

    /// The URLs of the cleanup queue and its dead-letter queue, once seeded.
    pub async fn queue_urls(&self, config: &SdkConfig) -> (String, String) {
        let sqs = aws_sdk_sqs::Client::new(config);
        let url = async |name: &str| {
            sqs.get_queue_url()
                .queue_name(name)
                .send()
                .await
                .unwrap_or_else(|e| panic!("queue {name}: {e:?}"))
                .queue_url
                .expect("GetQueueUrl answers with a URL")
        };
        (
            url(&self.cleanup_queue).await,
            url(&self.dead_letter_queue).await,
        )
    }

    /// The fixtures' user's installation `installation_id` of `repo`, read
    /// consistently.
    pub async fn installation(
        &self,
        config: &SdkConfig,
        repo: &str,
        installation_id: &str,
    ) -> Option<Item> {
        let ItemKey { pk, sk } =
            ItemKey::installation(&fixture_state().user, repo, installation_id);
        aws_sdk_dynamodb::Client::new(config)
            .get_item()
            .table_name(&self.table)
            .key("pk", seed::s(&pk))
            .key("sk", seed::s(&sk))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem answers")
            .item
    }
}

/// An item in DynamoDB's own JSON, as the AWS CLI prints it.
pub fn dynamodb_json(item: &Item) -> Value {
    item.iter()
        .map(|(name, value)| (name.clone(), attribute_json(value)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn attribute_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(n) => json!({"NULL": n}),
        AttributeValue::B(b) => json!({"B": STANDARD.encode(b.as_ref())}),
        AttributeValue::Ss(set) => json!({"SS": set}),
        AttributeValue::Ns(set) => json!({"NS": set}),
        AttributeValue::M(map) => json!({"M": dynamodb_json(map)}),
        AttributeValue::L(list) => {
            json!({"L": list.iter().map(attribute_json).collect::<Vec<_>>()})
        }
        other => json!({"unsupported": format!("{other:?}")}),
    }
}
