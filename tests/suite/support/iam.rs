//! AWS's policy evaluation for a principal of the stack's own account, as
//! far as the template's resource policies need it: an explicit Deny wins;
//! otherwise an Allow in the resource policy, or in the principal's IAM
//! policy, allows. A KMS key is stricter: IAM counts only where its key
//! policy lets the account's root delegate that action. Any condition
//! operator the template does not use fails the test instead of being
//! guessed at.

use serde_json::Value;

use super::template::ACCOUNT_ROOT;

/// One request, as the policy's conditions see it.
pub struct Request<'a> {
    pub principal: &'a str,
    pub action: &'a str,
    /// `aws:SecureTransport`.
    pub tls: bool,
    /// The KMS encryption context's keys.
    pub context: &'a [&'a str],
    /// Whether the principal's own IAM policy allows the action.
    pub iam_allows: bool,
}

/// Whether a resource policy lets the request through.
pub fn allowed(policy: &Value, request: &Request<'_>) -> bool {
    !denied(policy, request) && (grants(policy, request, request.principal) || request.iam_allows)
}

/// Whether a KMS key policy lets the request through.
pub fn key_allows(policy: &Value, request: &Request<'_>) -> bool {
    !denied(policy, request)
        && (grants(policy, request, request.principal)
            || (request.iam_allows && grants(policy, request, ACCOUNT_ROOT)))
}

fn statements(policy: &Value) -> &Vec<Value> {
    policy["Statement"]
        .as_array()
        .expect("a policy has statements")
}

fn denied(policy: &Value, request: &Request<'_>) -> bool {
    statements(policy).iter().any(|statement| {
        statement["Effect"] == "Deny" && applies(statement, request, request.principal)
    })
}

fn grants(policy: &Value, request: &Request<'_>, principal: &str) -> bool {
    statements(policy)
        .iter()
        .any(|statement| statement["Effect"] == "Allow" && applies(statement, request, principal))
}

fn applies(statement: &Value, request: &Request<'_>, principal: &str) -> bool {
    names_principal(&statement["Principal"], principal)
        && strings(&statement["Action"])
            .iter()
            .any(|pattern| matches(pattern, request.action))
        && conditions_hold(&statement["Condition"], request)
}

fn names_principal(principal: &Value, arn: &str) -> bool {
    match principal {
        Value::String(any) => any == "*",
        Value::Object(by_kind) => strings(&by_kind["AWS"]).iter().any(|p| p == arn),
        _ => false,
    }
}

/// A string or a list of strings.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .map(|v| v.as_str().expect("a string").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's action patterns: `*` matches any run of characters.
fn matches(pattern: &str, action: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(action),
        Some((prefix, rest)) => {
            assert!(rest.is_empty(), "only trailing wildcards: {pattern}");
            action
                .to_ascii_lowercase()
                .starts_with(&prefix.to_ascii_lowercase())
        }
    }
}

fn conditions_hold(conditions: &Value, request: &Request<'_>) -> bool {
    let Some(conditions) = conditions.as_object() else {
        return true;
    };
    conditions.iter().all(|(operator, tests)| {
        tests
            .as_object()
            .expect("a condition maps keys to values")
            .iter()
            .all(|(key, value)| condition(operator, key, value, request))
    })
}

fn condition(operator: &str, key: &str, value: &Value, request: &Request<'_>) -> bool {
    let values = strings(value);
    match (operator, key) {
        ("ArnNotEquals", "aws:PrincipalArn") => !values.iter().any(|v| v == request.principal),
        ("ArnEquals", "aws:PrincipalArn") => values.iter().any(|v| v == request.principal),
        ("Bool", "aws:SecureTransport") => values == [request.tls.to_string()],
        ("Null", context_key) => {
            let name = context_key
                .strip_prefix("kms:EncryptionContext:")
                .expect("a Null test of an encryption context key");
            let absent = !request.context.contains(&name);
            values == [absent.to_string()]
        }
        ("ForAllValues:StringEquals", "kms:EncryptionContextKeys") => request
            .context
            .iter()
            .all(|key| values.iter().any(|v| v == key)),
        _ => panic!("the tests do not evaluate {operator} on {key}"),
    }
}
