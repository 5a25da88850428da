//! `InstallationStore` over the DynamoDB table of CONTRACT §3.

use std::collections::HashMap;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::AttributeValue;

use super::aws_errors::classify;
use crate::domain::{Ciphertext, Installation, RepoName, User, UserId};
use crate::ports::{Deactivation, Dependency, DependencyError, InstallationStore};

type Item = HashMap<String, AttributeValue>;

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
}

pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub const PROFILE_SK: &str = "PROFILE";

/// The sort-key prefix shared by every installation of `repo`; `#` cannot
/// occur in a valid name, so the prefix matches exactly one repository.
pub fn installation_sk_prefix(repo: &RepoName) -> String {
    format!("INSTALL#{}#", repo.lowercase_full_name())
}

impl InstallationStore for DynamoDbInstallations {
    async fn find_user(&self, user: &UserId) -> Result<Option<User>, DependencyError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(user_pk(user)))
            .key("sk", AttributeValue::S(PROFILE_SK.into()))
            .projection_expression("pk, github_token")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(Dependency::DynamoDb, e))?;
        Ok(output.item.map(|item| User {
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
        let mut installations = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .filter_expression("is_active = :active")
            .expression_attribute_values(":pk", AttributeValue::S(user_pk(user)))
            .expression_attribute_values(":prefix", AttributeValue::S(installation_sk_prefix(repo)))
            .expression_attribute_values(":active", AttributeValue::Bool(true))
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(Dependency::DynamoDb, e))?;
            for item in page.items.unwrap_or_default() {
                installations.push(to_installation(&item)?);
            }
        }
        Ok(installations)
    }

    async fn deactivate(
        &self,
        user: &UserId,
        repo: &RepoName,
        installation: &Installation,
        at: SystemTime,
    ) -> Result<Deactivation, DependencyError> {
        let sk = format!(
            "{}{}",
            installation_sk_prefix(repo),
            installation.installation_id
        );
        let at = DateTime::from(at)
            .fmt(DateTimeFormat::DateTime)
            .map_err(|e| DependencyError::failed(Dependency::DynamoDb, e))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(user_pk(user)))
            .key("sk", AttributeValue::S(sk))
            .update_expression("SET is_active = :inactive, disconnected_at = :at")
            .condition_expression(
                "attribute_exists(pk) AND is_active = :active AND installation_id = :id",
            )
            .expression_attribute_values(":inactive", AttributeValue::Bool(false))
            .expression_attribute_values(":active", AttributeValue::Bool(true))
            .expression_attribute_values(":at", AttributeValue::S(at))
            .expression_attribute_values(
                ":id",
                AttributeValue::S(installation.installation_id.clone()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Deactivation::Deactivated),
            Err(e)
                if e.as_service_error()
                    .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
            {
                Ok(Deactivation::NotActive)
            }
            Err(e) => Err(classify(Dependency::DynamoDb, e)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("installation item has no usable {0}")]
struct MalformedItem(&'static str);

fn to_installation(item: &Item) -> Result<Installation, DependencyError> {
    let malformed =
        |attribute| DependencyError::failed(Dependency::DynamoDb, MalformedItem(attribute));
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
        installation_id: string("installation_id")?,
        repo_full_name: string("repo_full_name")?,
        webhook_id,
    })
}
