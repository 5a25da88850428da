//! `InstallationStore` over the DynamoDB table of CONTRACT §3.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeyType, ReturnValuesOnConditionCheckFailure};

use super::aws_errors::classify;
use crate::domain::INSTALLATION_SK_PREFIX;
use crate::domain::{
    Ciphertext, Installation, InstallationRecord, RepoName, User, UserId, rfc3339,
};
pub use crate::domain::{installation_sk, installation_sk_prefix};
use crate::metrics::{self, Call};
use crate::ports::{Deactivation, Dependency, DependencyError, Disconnection, InstallationStore};

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoDbInstallations {
    client: Client,
    table: String,
}

impl DynamoDbInstallations {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Leaves `count` connections (one or two) to DynamoDB open in the
    /// client's pool: two for the two reads a disconnect starts with.
    /// DescribeTable reads no item, and needs no other resource than the
    /// one the reads use; a table whose keys are not CONTRACT §3's is a
    /// misconfiguration.
    pub async fn open_connections(&self, count: usize) -> Result<(), DependencyError> {
        let describe = || async {
            let request = self.client.describe_table().table_name(&self.table);
            let output = request
                .send()
                .await
                .map_err(|e| classify(Dependency::DynamoDb, &self.table, e))?;
            let keys: Vec<(&str, &KeyType)> = output
                .table
                .as_ref()
                .map(|table| table.key_schema())
                .unwrap_or_default()
                .iter()
                .map(|key| (key.attribute_name(), key.key_type()))
                .collect();
            if keys == [("pk", &KeyType::Hash), ("sk", &KeyType::Range)] {
                Ok(())
            } else {
                Err(DependencyError::misconfigured(
                    Dependency::DynamoDb,
                    "KeySchema",
                    &self.table,
                    NotTheContractsKeys(format!("{keys:?}")),
                ))
            }
        };
        if count < 2 {
            return describe().await;
        }
        let (first, second) = tokio::join!(describe(), describe());
        first.and(second)
    }
}

pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub const PROFILE_SK: &str = "PROFILE";

/// The key of the item a disconnection addresses: the one the Query found,
/// by its own sort key, never one rebuilt from the request.
fn installation_key(disconnection: &Disconnection<'_>) -> Item {
    Item::from([
        (
            "pk".to_owned(),
            AttributeValue::S(user_pk(disconnection.user)),
        ),
        (
            "sk".to_owned(),
            AttributeValue::S(disconnection.installation.sort_key.clone()),
        ),
    ])
}

impl DynamoDbInstallations {
    /// One item, read consistently: what a disconnect acts on must be what
    /// the table holds now.
    async fn get(
        &self,
        user: &UserId,
        sk: String,
        projection: Option<&str>,
    ) -> Result<Option<Item>, DependencyError> {
        let output = metrics::timed(
            Call::DynamoDbGetItem,
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(user_pk(user)))
                .key("sk", AttributeValue::S(sk))
                .set_projection_expression(projection.map(str::to_owned))
                .consistent_read(true)
                .send(),
        )
        .await
        .map_err(|e| classify(Dependency::DynamoDb, &self.table, e))?;
        Ok(output.item)
    }
}

impl DynamoDbInstallations {
    /// A consistent Query of the user's installations whose sort key
    /// starts with `prefix`; the caller's filter keeps the active ones
    /// (`:active`).
    fn active_installations(&self, user: &UserId, prefix: String) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(user_pk(user)))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix))
            .expression_attribute_values(":active", AttributeValue::Bool(true))
            .consistent_read(true)
    }

    /// Hands `take` the items of each page of `query` in turn, until it
    /// breaks or the pages end, timing each page that came (the
    /// paginator's final `None` is no call).
    async fn each_page(
        &self,
        query: QueryFluentBuilder,
        mut take: impl FnMut(Vec<Item>) -> Result<ControlFlow<()>, DependencyError>,
    ) -> Result<(), DependencyError> {
        let mut pages = query.into_paginator().send();
        loop {
            let started = Instant::now();
            let Some(page) = pages.next().await else {
                return Ok(());
            };
            metrics::record(Call::DynamoDbQuery, started.elapsed());
            let page = page.map_err(|e| classify(Dependency::DynamoDb, &self.table, e))?;
            if take(page.items.unwrap_or_default())?.is_break() {
                return Ok(());
            }
        }
    }
}

impl InstallationStore for DynamoDbInstallations {
    async fn find_user(&self, user: &UserId) -> Result<Option<User>, DependencyError> {
        let item = self
            .get(user, PROFILE_SK.into(), Some("pk, github_token"))
            .await?;
        Ok(item.map(|item| User {
            github_token: match item.get("github_token") {
                Some(AttributeValue::B(blob)) => Some(Ciphertext::new(blob.clone().into_inner())),
                _ => None,
            },
        }))
    }

    async fn find_active_installations(
        &self,
        user: &UserId,
        repo: &RepoName,
    ) -> Result<Vec<Installation>, DependencyError> {
        let query = self
            .active_installations(user, installation_sk_prefix(repo))
            .filter_expression("is_active = :active");
        let mut installations = Vec::new();
        self.each_page(query, |items| {
            for item in items {
                installations.push(to_installation(&item)?);
            }
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        Ok(installations)
    }

    async fn webhook_in_use(
        &self,
        user: &UserId,
        webhook_id: u64,
    ) -> Result<bool, DependencyError> {
        let query = self
            .active_installations(user, INSTALLATION_SK_PREFIX.into())
            .filter_expression("is_active = :active AND webhook_id = :hook")
            .expression_attribute_values(":hook", AttributeValue::N(webhook_id.to_string()))
            .projection_expression("pk");
        let mut in_use = false;
        self.each_page(query, |items| {
            in_use = !items.is_empty();
            Ok(if in_use {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })
        .await?;
        Ok(in_use)
    }

    async fn find_installation(
        &self,
        user: &UserId,
        repo: &RepoName,
        installation_id: &str,
    ) -> Result<Option<InstallationRecord>, DependencyError> {
        let item = self
            .get(user, installation_sk(repo, installation_id), None)
            .await?;
        item.as_ref().map(to_record).transpose()
    }

    async fn deactivate(
        &self,
        disconnection: &Disconnection<'_>,
    ) -> Result<Deactivation, DependencyError> {
        let at = rfc3339(disconnection.at);
        let installation = disconnection.installation;
        let result = metrics::timed(
            Call::DynamoDbUpdateItem,
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(installation_key(disconnection)))
                .update_expression("SET is_active = :inactive, disconnected_at = :at")
                .condition_expression(
                    "attribute_exists(pk) AND is_active = :active AND installation_id = :id",
                )
                .expression_attribute_values(":inactive", AttributeValue::Bool(false))
                .expression_attribute_values(":active", AttributeValue::Bool(true))
                .expression_attribute_values(":at", AttributeValue::S(at.clone()))
                .expression_attribute_values(
                    ":id",
                    AttributeValue::S(installation.installation_id.clone()),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send(),
        )
        .await;
        match result {
            Ok(_) => Ok(Deactivation::Deactivated),
            Err(e) => match e.as_service_error() {
                // The SDK retries an update whose answer was lost; if an
                // earlier attempt went through, the item carries our stamp.
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(if carries(failed.item(), &at) {
                        Deactivation::Deactivated
                    } else {
                        Deactivation::NotActive
                    })
                }
                _ => Err(classify(Dependency::DynamoDb, &self.table, e)),
            },
        }
    }

    async fn is_deactivated(
        &self,
        disconnection: &Disconnection<'_>,
    ) -> Result<bool, DependencyError> {
        let at = rfc3339(disconnection.at);
        let sk = disconnection.installation.sort_key.clone();
        let item = self
            .get(disconnection.user, sk, Some("is_active, disconnected_at"))
            .await?;
        Ok(carries(item.as_ref(), &at))
    }
}

/// Whether `item` is inactive with exactly the `disconnected_at` stamp `at`.
fn carries(item: Option<&Item>, at: &str) -> bool {
    item.is_some_and(|item| {
        item.get("is_active") == Some(&AttributeValue::Bool(false))
            && item
                .get("disconnected_at")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|stamp| stamp == at)
    })
}

#[derive(Debug, thiserror::Error)]
#[error("installation item has no usable {0}")]
struct MalformedItem(&'static str);

fn malformed(attribute: &'static str) -> DependencyError {
    DependencyError::failed(Dependency::DynamoDb, MalformedItem(attribute))
}

#[derive(Debug, thiserror::Error)]
#[error("the table's key schema is {0}, not pk (HASH) and sk (RANGE)")]
struct NotTheContractsKeys(String);

fn to_installation(item: &Item) -> Result<Installation, DependencyError> {
    let string = |name: &'static str| match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(malformed(name)),
    };
    let webhook_id = match item.get("webhook_id") {
        None | Some(AttributeValue::Null(_)) => None,
        Some(AttributeValue::N(n)) => Some(n.parse().map_err(|_| malformed("webhook_id"))?),
        Some(_) => return Err(malformed("webhook_id")),
    };
    Ok(Installation {
        sort_key: string("sk")?,
        installation_id: string("installation_id")?,
        repo_full_name: string("repo_full_name")?,
        webhook_id,
    })
}

/// An installation item with what the cleanup worker checks a job against.
fn to_record(item: &Item) -> Result<InstallationRecord, DependencyError> {
    let is_active = match item.get("is_active") {
        Some(AttributeValue::Bool(active)) => *active,
        _ => return Err(malformed("is_active")),
    };
    let disconnected_at = match item.get("disconnected_at") {
        None | Some(AttributeValue::Null(_)) => None,
        Some(AttributeValue::S(at)) => Some(at.clone()),
        Some(_) => return Err(malformed("disconnected_at")),
    };
    Ok(InstallationRecord {
        installation: to_installation(item)?,
        is_active,
        disconnected_at,
    })
}
