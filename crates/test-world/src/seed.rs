//! AWS state written the way the rest of Nectr writes it, for the suite,
//! the bench and `test-world seed`: the table of CONTRACT §3 (its key
//! schema is written here and in template.yaml, nowhere else), items keyed
//! by the function's own key builders, OAuth tokens encrypted with the
//! encryption context `{"user_id": …}`, and the cleanup queue with the
//! template's redrive policy.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use nectr_disconnect::adapters::dynamodb::{PROFILE_SK, installation_sk, user_pk};
use nectr_disconnect::domain::{RepoName, UserId};

use crate::secrets;

pub type Item = HashMap<String, AttributeValue>;

/// The template's `maxReceiveCount`: after that many receives a cleanup job
/// moves to the dead-letter queue.
pub const MAX_RECEIVES: u32 = 8;

/// The table key of one item: the user's partition and the item's sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemKey {
    pub pk: String,
    pub sk: String,
}

impl ItemKey {
    /// The key of `user`'s own item.
    pub fn user(user: &str) -> Self {
        Self {
            pk: user_pk(&UserId::new(user)),
            sk: PROFILE_SK.to_owned(),
        }
    }

    /// The key of `user`'s installation `installation_id` of
    /// `repo_full_name`.
    pub fn installation(user: &str, repo_full_name: &str, installation_id: &str) -> Self {
        let repo = RepoName::parse_full_name(repo_full_name)
            .expect("a seeded repository has a valid name");
        Self {
            pk: user_pk(&UserId::new(user)),
            sk: installation_sk(&repo, installation_id),
        }
    }

    fn into_item(self) -> Item {
        Item::from([("pk".into(), s(&self.pk)), ("sk".into(), s(&self.sk))])
    }
}

/// An installation item to seed.
pub struct Installation<'a> {
    pub user: &'a str,
    pub repo_full_name: &'a str,
    pub installation_id: &'a str,
    pub webhook_id: Option<u64>,
    pub installed_at: &'a str,
    /// `None`: active.
    pub disconnected_at: Option<&'a str>,
}

impl Installation<'_> {
    pub fn key(&self) -> ItemKey {
        ItemKey::installation(self.user, self.repo_full_name, self.installation_id)
    }

    pub fn item(&self) -> Item {
        let mut item = self.key().into_item();
        item.extend([
            ("installation_id".into(), s(self.installation_id)),
            ("repo_full_name".into(), s(self.repo_full_name)),
            (
                "is_active".into(),
                AttributeValue::Bool(self.disconnected_at.is_none()),
            ),
            ("installed_at".into(), s(self.installed_at)),
        ]);
        if let Some(id) = self.webhook_id {
            item.insert("webhook_id".into(), AttributeValue::N(id.to_string()));
        }
        if let Some(at) = self.disconnected_at {
            item.insert("disconnected_at".into(), s(at));
        }
        item
    }
}

/// `user`'s own item, with `github_token` when given.
pub fn user_item(user: &str, github_login: &str, github_token: Option<&[u8]>) -> Item {
    let mut item = ItemKey::user(user).into_item();
    item.insert("github_login".into(), s(github_login));
    if let Some(token) = github_token {
        secrets::register_bytes(token);
        item.insert("github_token".into(), AttributeValue::B(Blob::new(token)));
    }
    item
}

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub async fn create_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) {
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("a key schema element with a name and a type")
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("an attribute definition with a name and a type")
    };
    let created = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .send()
        .await;
    match created {
        Ok(_) => {}
        // On a loaded machine the SDK may retry a CreateTable whose first
        // attempt timed out after moto had made the table: it is there.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(e) => panic!("the table is created: {e:?}"),
    }
}

pub async fn put(dynamodb: &aws_sdk_dynamodb::Client, table: &str, item: Item) {
    dynamodb
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("the item is stored");
}

/// A new symmetric key; its id.
pub async fn create_key(kms: &aws_sdk_kms::Client) -> String {
    kms.create_key()
        .send()
        .await
        .expect("the key is created")
        .key_metadata
        .expect("a created key has metadata")
        .key_id
}

/// `oauth_token` encrypted for `user` as Nectr's backend does it.
pub async fn encrypt_token(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    user: &str,
    oauth_token: &str,
) -> Vec<u8> {
    secrets::register(oauth_token);
    let ciphertext = kms
        .encrypt()
        .key_id(key_id)
        .plaintext(aws_sdk_kms::primitives::Blob::new(oauth_token.as_bytes()))
        .encryption_context("user_id", user)
        .send()
        .await
        .expect("the token is encrypted")
        .ciphertext_blob
        .expect("Encrypt returns a ciphertext")
        .into_inner();
    secrets::register_bytes(&ciphertext);
    ciphertext
}

/// The cleanup queue `name` and its dead-letter queue `dead_letters`, with
/// the template's redrive policy; their URLs.
pub async fn create_cleanup_queues(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    dead_letters: &str,
) -> (String, String) {
    let create = |name: &str, attributes: Option<(QueueAttributeName, String)>| {
        let request = sqs
            .create_queue()
            .queue_name(name)
            .set_attributes(attributes.map(|a| HashMap::from([a])));
        async move {
            request
                .send()
                .await
                .expect("the queue is created")
                .queue_url
                .expect("a created queue has a URL")
        }
    };
    let dead_letters = create(dead_letters, None).await;
    let arn = queue_attributes(sqs, &dead_letters, QueueAttributeName::QueueArn)
        .await
        .remove(&QueueAttributeName::QueueArn)
        .expect("the dead-letter queue has an ARN");
    let redrive = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES});
    let queue = create(
        name,
        Some((QueueAttributeName::RedrivePolicy, redrive.to_string())),
    )
    .await;
    (queue, dead_letters)
}

/// The attribute `name` of the queue at `url`, or all of them with
/// `QueueAttributeName::All`.
pub async fn queue_attributes(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    name: QueueAttributeName,
) -> HashMap<QueueAttributeName, String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(name)
        .send()
        .await
        .expect("GetQueueAttributes answers")
        .attributes
        .unwrap_or_default()
}
