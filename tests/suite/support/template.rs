//! `template.yaml` as data: a resource's properties with CloudFormation's
//! `!GetAtt`, `!Ref`, `!Sub` and `!If` filled in for one made-up stack with
//! every parameter at its default, so tests can hand the template's own
//! policies to moto and evaluate them.

use std::path::Path;

use serde_json::Value;
use serde_norway::Value as Yaml;

pub const ACCOUNT: &str = "123456789012";
pub const DISCONNECT_ROLE: &str = "arn:aws:iam::123456789012:role/nectr-disconnect";
pub const CLEANUP_ROLE: &str = "arn:aws:iam::123456789012:role/nectr-webhook-cleanup";
pub const CLEANUP_QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:nectr-webhook-cleanup";
pub const CLEANUP_DEAD_LETTER_QUEUE: &str =
    "arn:aws:sqs:us-east-1:123456789012:nectr-webhook-cleanup-dlq";
pub const ACCOUNT_ROOT: &str = "arn:aws:iam::123456789012:root";

/// The whole template, intrinsic functions still tagged.
pub fn template() -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

/// `Resources.<resource>.Properties.<property>`, resolved.
pub fn property(resource: &str, property: &str) -> Value {
    resolved(&template()["Resources"][resource]["Properties"][property])
}

pub fn cleanup_queue_policy() -> Value {
    property("CleanupQueuePolicy", "PolicyDocument")
}

pub fn cleanup_dead_letter_queue_policy() -> Value {
    property("CleanupDeadLetterQueuePolicy", "PolicyDocument")
}

pub fn oauth_token_key_policy() -> Value {
    property("OAuthTokenKey", "KeyPolicy")
}

/// The template's conditions with every parameter at its default: the
/// stack creates its table, key and secret, and names no redrive role.
fn holds(condition: &str) -> bool {
    match condition {
        "CreateTable" | "CreateKmsKey" | "CreateSigningSecret" => true,
        "HasCleanupRedriveRole" | "HasNeo4j" | "HasCaBundle" => false,
        other => panic!("the tests do not know the condition {other}"),
    }
}

/// The stack's value for `!GetAtt name.attribute` or `!Ref name`.
fn attribute(reference: &str) -> &'static str {
    match reference {
        "DisconnectFunctionRole.Arn" => DISCONNECT_ROLE,
        "CleanupFunctionRole.Arn" => CLEANUP_ROLE,
        "CleanupQueue.Arn" => CLEANUP_QUEUE,
        "CleanupDeadLetterQueue.Arn" => CLEANUP_DEAD_LETTER_QUEUE,
        other => panic!("no value for {other} in the tests' stack"),
    }
}

fn resolved(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).expect("a YAML number is a JSON number"),
        Yaml::String(s) => Value::String(s.clone()),
        // `!Ref AWS::NoValue` leaves a list without the item.
        Yaml::Sequence(items) => Value::Array(
            items
                .iter()
                .map(resolved)
                .filter(|item| !item.is_null())
                .collect(),
        ),
        Yaml::Mapping(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().expect("a string key").to_owned(), resolved(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) if tagged.tag == "!If" => {
            let [condition, then, otherwise] = tagged
                .value
                .as_sequence()
                .map(Vec::as_slice)
                .expect("!If has a condition and two values")
            else {
                panic!("!If has a condition and two values");
            };
            let condition = condition.as_str().expect("a condition's name");
            resolved(if holds(condition) { then } else { otherwise })
        }
        Yaml::Tagged(tagged) => {
            let argument = tagged.value.as_str().expect("a one-word intrinsic");
            match tagged.tag.to_string().as_str() {
                "!Ref" if argument == "AWS::NoValue" => Value::Null,
                "!GetAtt" | "!Ref" => Value::String(attribute(argument).to_owned()),
                "!Sub" => Value::String(
                    argument
                        .replace("${AWS::Partition}", "aws")
                        .replace("${AWS::AccountId}", ACCOUNT),
                ),
                other => panic!("{other} {argument} is not resolved by the tests"),
            }
        }
    }
}
