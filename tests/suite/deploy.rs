//! The deployment files agree with the configuration the function reads,
//! and the template's policies and time limits do what the contract says.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use nectr_disconnect::config::{Config, FromEnvironment, VARIABLES};
use nectr_disconnect::pre_traffic::REPORT_MARGIN;
use nectr_disconnect::timeouts::{ANSWER_MARGIN, time_per_cleanup_job};
use serde_json::Value;
use serde_norway::Value as Yaml;

use crate::support::iam::{Request, allowed, key_allows};
use crate::support::template::{
    CLEANUP_ROLE, DISCONNECT_ROLE, cleanup_dead_letter_queue_policy, cleanup_queue_policy,
    oauth_token_key_policy, template,
};

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

/// The variables `function` is given: its own and the `Globals`'.
fn environment(template: &Yaml, function: &str) -> Vec<String> {
    [
        &template["Globals"]["Function"],
        &template["Resources"][function]["Properties"],
    ]
    .into_iter()
    .filter_map(|properties| properties["Environment"]["Variables"].as_mapping())
    .flat_map(|variables| variables.keys())
    .filter_map(|name| name.as_str().map(str::to_owned))
    .collect()
}

#[test]
fn the_template_sets_every_configuration_variable() {
    let template = template();
    let given = environment(&template, "DisconnectFunction");
    for variable in VARIABLES.map(|variable| variable.name) {
        assert!(
            given.iter().any(|name| name == variable),
            "template.yaml does not set {variable}: {given:?}"
        );
    }
}

/// cfn-lint's WS1004 is off for the whole template (`LoggingConfig.LogGroup`
/// postdates it): what it checked holds here instead.
#[test]
fn every_function_logs_to_a_log_group_of_its_own_with_a_retention() {
    let template = template();
    let mut groups = Vec::new();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let group =
            serde_norway::to_string(&resource["Properties"]["LoggingConfig"]["LogGroup"]).unwrap();
        let group = group
            .trim()
            .strip_prefix("!Ref ")
            .unwrap_or_else(|| panic!("{name:?} names no log group of the template: {group}"))
            .to_owned();
        let log_group = &template["Resources"][group.as_str()];
        assert_eq!(
            log_group["Type"], "AWS::Logs::LogGroup",
            "{name:?}: {group}"
        );
        assert!(
            !log_group["Properties"]["RetentionInDays"].is_null(),
            "{group} keeps logs forever"
        );
        assert!(!groups.contains(&group), "{group} is shared");
        groups.push(group);
    }
    assert_eq!(groups.len(), 4, "{groups:?}");
}

/// A request of `principal` for `action`.
fn request<'a>(principal: &'a str, action: &'a str) -> Request<'a> {
    Request {
        principal,
        action,
        tls: true,
        context: &[],
        iam_allows: false,
    }
}

/// Someone in the account whose IAM policy allows everything.
const ADMIN: &str = "arn:aws:iam::123456789012:role/admin";

#[test]
fn only_the_disconnects_role_may_queue_cleanup_jobs_and_only_over_tls() {
    let policy = cleanup_queue_policy();
    let send = |principal| request(principal, "sqs:SendMessage");
    for (case, request, expected) in [
        ("the disconnect", send(DISCONNECT_ROLE), true),
        (
            "the disconnect without TLS",
            Request {
                tls: false,
                ..send(DISCONNECT_ROLE)
            },
            false,
        ),
        (
            "the worker, even if its IAM allowed it",
            Request {
                iam_allows: true,
                ..send(CLEANUP_ROLE)
            },
            false,
        ),
        (
            "an administrator",
            Request {
                iam_allows: true,
                ..send(ADMIN)
            },
            false,
        ),
        (
            "the worker receiving",
            Request {
                iam_allows: true,
                ..request(CLEANUP_ROLE, "sqs:ReceiveMessage")
            },
            true,
        ),
        (
            "the worker receiving without TLS",
            Request {
                iam_allows: true,
                tls: false,
                ..request(CLEANUP_ROLE, "sqs:ReceiveMessage")
            },
            false,
        ),
    ] {
        assert_eq!(allowed(&policy, &request), expected, "{case}");
    }
}

#[test]
fn the_dead_letter_queue_refuses_every_request_without_tls() {
    let template = template();
    let queues = &template["Resources"]["CleanupDeadLetterQueuePolicy"]["Properties"]["Queues"];
    assert_eq!(
        serde_norway::to_string(queues).unwrap().trim(),
        "- !Ref CleanupDeadLetterQueue",
        "the policy is the dead-letter queue's"
    );
    let policy = cleanup_dead_letter_queue_policy();
    let operator = |action| Request {
        iam_allows: true,
        ..request(ADMIN, action)
    };
    for (case, request, expected) in [
        (
            "an operator reading over TLS",
            operator("sqs:ReceiveMessage"),
            true,
        ),
        (
            "an operator reading without TLS",
            Request {
                tls: false,
                ..operator("sqs:ReceiveMessage")
            },
            false,
        ),
        (
            "a redrive without TLS",
            Request {
                tls: false,
                ..operator("sqs:StartMessageMoveTask")
            },
            false,
        ),
        (
            "the queue's own redrive, sending without TLS",
            Request {
                tls: false,
                ..operator("sqs:SendMessage")
            },
            false,
        ),
    ] {
        assert_eq!(allowed(&policy, &request), expected, "{case}");
    }
}

/// Both queues hold jobs for hooks still on GitHub (CONTRACT §9).
#[test]
fn both_cleanup_queues_outlive_the_stack() {
    let template = template();
    for queue in ["CleanupQueue", "CleanupDeadLetterQueue"] {
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            assert_eq!(
                template["Resources"][queue][policy].as_str(),
                Some("Retain"),
                "{queue} {policy}"
            );
        }
    }
}

/// A replaced signing key verifies for at most a week after the rotation.
#[test]
fn the_previous_signing_key_may_live_at_most_seven_days() {
    let template = template();
    let longest = template["Parameters"]["JwtPreviousKeySeconds"]["MaxValue"]
        .as_u64()
        .expect("JwtPreviousKeySeconds has a maximum");
    assert!(longest <= 7 * 24 * 3_600, "{longest} s");
    let default = template["Parameters"]["JwtPreviousKeySeconds"]["Default"]
        .as_u64()
        .expect("a default");
    assert!(default <= longest);
}

/// Another method than DELETE reaches the function, whose 405 carries
/// `Allow` (CONTRACT §1); API Gateway answers CORS preflights itself.
#[test]
fn every_method_of_the_endpoint_reaches_the_function() {
    let template = template();
    let event = &template["Resources"]["DisconnectFunction"]["Properties"]["Events"]["Disconnect"]
        ["Properties"];
    assert_eq!(event["Method"].as_str(), Some("ANY"));
    assert_eq!(
        event["Path"].as_str(),
        Some("/api/v1/repos/{owner}/{repo}/install")
    );
    let cors = &template["Resources"]["Api"]["Properties"]["CorsConfiguration"];
    assert!(cors.is_mapping(), "CORS preflights are the API's");
}

#[test]
fn the_workers_own_role_is_not_granted_sending() {
    let role = serde_norway::to_string(&template()["Resources"]["CleanupFunctionRole"]).unwrap();
    assert!(role.contains("sqs:ReceiveMessage"), "{role}");
    assert!(!role.contains("sqs:SendMessage"), "{role}");
}

#[test]
fn only_the_two_functions_may_decrypt_a_users_token() {
    let policy = oauth_token_key_policy();
    let decrypt = |principal, context| Request {
        context,
        ..request(principal, "kms:Decrypt")
    };
    let admin = |action| Request {
        iam_allows: true,
        ..request(ADMIN, action)
    };
    for (case, request, expected) in [
        (
            "the disconnect",
            decrypt(DISCONNECT_ROLE, &["user_id"]),
            true,
        ),
        ("the worker", decrypt(CLEANUP_ROLE, &["user_id"]), true),
        (
            "the disconnect without the user in the context",
            decrypt(DISCONNECT_ROLE, &[]),
            false,
        ),
        (
            "the worker with more than the user in the context",
            decrypt(CLEANUP_ROLE, &["user_id", "purpose"]),
            false,
        ),
        (
            "an administrator's IAM allowing kms:*",
            Request {
                context: &["user_id"],
                ..admin("kms:Decrypt")
            },
            false,
        ),
        (
            "re-encrypting under another key",
            admin("kms:ReEncryptFrom"),
            false,
        ),
        (
            "the disconnect re-encrypting",
            request(DISCONNECT_ROLE, "kms:ReEncryptFrom"),
            false,
        ),
        (
            "a grant that would decrypt",
            admin("kms:CreateGrant"),
            false,
        ),
        (
            "the connect flow storing a token",
            admin("kms:Encrypt"),
            true,
        ),
        // KMS's lockout safety check: the account can still change the policy.
        (
            "the account changing the key policy",
            admin("kms:PutKeyPolicy"),
            true,
        ),
        (
            "the disconnect's warm-up",
            request(DISCONNECT_ROLE, "kms:DescribeKey"),
            true,
        ),
    ] {
        assert_eq!(key_allows(&policy, &request), expected, "{case}");
    }
}

fn number(resource: &str, property: &str) -> u64 {
    template()["Resources"][resource]["Properties"][property]
        .as_u64()
        .unwrap_or_else(|| panic!("{resource}.{property} is a number"))
}

#[test]
fn the_workers_timeout_covers_a_batch_at_its_worst_bounds() {
    let template = template();
    let timeout = Duration::from_secs(number("CleanupFunction", "Timeout"));
    let batch = template["Resources"]["CleanupFunction"]["Properties"]["Events"]["CleanupJobs"]
        ["Properties"]["BatchSize"]
        .as_u64()
        .expect("the event source has a batch size") as u32;
    let slowest_github = template["Parameters"]["GitHubTimeoutMs"]["MaxValue"]
        .as_u64()
        .expect("GitHubTimeoutMs has a maximum");
    let visibility = Duration::from_secs(number("CleanupQueue", "VisibilityTimeout"));

    let worst_batch = time_per_cleanup_job(Duration::from_millis(slowest_github)) * batch;

    assert!(
        worst_batch + ANSWER_MARGIN <= timeout,
        "{batch} jobs take up to {worst_batch:?}, the timeout is {timeout:?}"
    );
    // AWS: at least six times the function's timeout for an SQS event source.
    assert!(visibility >= timeout * 6, "{visibility:?} for {timeout:?}");
}

#[test]
fn deploys_are_gradual_by_default_and_all_at_once_is_allowed() {
    let template = template();
    let parameter = &template["Parameters"]["DeploymentType"];
    let allowed: Vec<&str> = parameter["AllowedValues"]
        .as_sequence()
        .expect("DeploymentType lists its values")
        .iter()
        .filter_map(|value| value.as_str())
        .collect();

    let default = parameter["Default"].as_str().expect("a default type");

    assert!(
        default.starts_with("Canary") || default.starts_with("Linear"),
        "{default}"
    );
    assert!(allowed.contains(&"AllAtOnce"), "{allowed:?}");
    for function in ["DisconnectFunction", "CleanupFunction"] {
        let properties = &template["Resources"][function]["Properties"];
        assert_eq!(properties["AutoPublishAlias"], "live", "{function}");
        assert_eq!(
            serde_norway::to_string(&properties["DeploymentPreference"]["Type"])
                .unwrap()
                .trim(),
            "!Ref DeploymentType",
            "{function}"
        );
    }
}

#[test]
fn each_hook_has_time_to_check_its_version_and_still_report() {
    for hook in ["DisconnectPreTrafficHook", "CleanupPreTrafficHook"] {
        let timeout = Duration::from_secs(number(hook, "Timeout"));

        let checking = timeout.saturating_sub(REPORT_MARGIN + ANSWER_MARGIN);

        // A new version's cold start and its answers take a few seconds.
        assert!(checking >= Duration::from_secs(30), "{hook}: {checking:?}");
    }
}

/// The alarms a function's `DeploymentPreference` rolls back on, each with
/// its metric's name and dimensions.
fn rollback_alarms(function: &str) -> Vec<(String, String, BTreeMap<String, String>)> {
    let template = template();
    let alarms = template["Resources"][function]["Properties"]["DeploymentPreference"]["Alarms"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{function} rolls back on alarms"));
    alarms
        .iter()
        .map(|alarm| {
            let name = alarm.as_str().expect("an alarm by !Ref").to_owned();
            let properties = &template["Resources"][name.as_str()]["Properties"];
            let dimensions = properties["Dimensions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|dimension| {
                    let value = &dimension["Value"];
                    let value = value
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| serde_norway::to_string(value).unwrap());
                    (dimension["Name"].as_str().unwrap().to_owned(), value)
                })
                .collect();
            let metric = properties["MetricName"].as_str().unwrap_or_default();
            (name.clone(), metric.to_owned(), dimensions)
        })
        .collect()
}

/// CONTRACT §11: the old version's trouble never rolls back the deploy
/// that fixes it, and a version whose failures are all answers (5xx, jobs
/// dropped as invalid) is rolled back like one that crashes.
#[test]
fn every_rollback_alarm_judges_the_version_being_deployed() {
    for (function, signal, dimension, value) in [
        ("DisconnectFunction", "Disconnects", "status_class", "5xx"),
        ("CleanupFunction", "WebhookCleanup", "outcome", "invalid"),
    ] {
        let the_new_version = format!("{function}.Version.Version");
        let alarms = rollback_alarms(function);
        for (alarm, _, dimensions) in &alarms {
            let scoped = ["ExecutedVersion", "function_version"]
                .iter()
                .any(|name| dimensions.get(*name) == Some(&the_new_version));
            assert!(scoped, "{function}: {alarm} {dimensions:?}");
        }
        assert!(
            alarms.iter().any(|(_, metric, dimensions)| metric == signal
                && dimensions.get(dimension).map(String::as_str) == Some(value)),
            "{function} is not rolled back on {signal} {dimension}={value}: {alarms:?}"
        );
    }
}

/// CloudFormation's longest stack name, and the id of a stack so named.
fn longest_stack() -> (String, String) {
    let name = format!("n{}x", "-x".repeat(63));
    let id = format!(
        "arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/51af3dc0-da77-11e4-872e-1234567db123"
    );
    (name, id)
}

/// A name the template writes with CloudFormation's intrinsics, as the
/// stack `(name, id)` gets it: a string, or a list from `!Split`.
fn evaluated(yaml: &Yaml, stack: &(String, String)) -> Value {
    let substitute = |text: &str, variables: &[(String, String)]| {
        let mut text = text
            .replace("${AWS::StackName}", &stack.0)
            .replace("${AWS::StackId}", &stack.1)
            .replace("${AWS::Region}", "us-east-1")
            .replace("${AWS::AccountId}", "123456789012")
            .replace("${AWS::Partition}", "aws");
        for (name, value) in variables {
            text = text.replace(&format!("${{{name}}}"), value);
        }
        assert!(!text.contains("${"), "unresolved: {text}");
        Value::String(text)
    };
    let text = |yaml: &Yaml| match evaluated(yaml, stack) {
        Value::String(text) => text,
        other => panic!("not a string: {other}"),
    };
    let Yaml::Tagged(tagged) = yaml else {
        return Value::String(yaml.as_str().expect("a name is a string").to_owned());
    };
    let arguments = tagged.value.as_sequence().map(Vec::as_slice);
    match (tagged.tag.to_string().as_str(), arguments) {
        ("!Sub", None) => substitute(tagged.value.as_str().unwrap(), &[]),
        ("!Sub", Some([template, variables])) => {
            let variables: Vec<(String, String)> = variables
                .as_mapping()
                .expect("!Sub's variables")
                .iter()
                .map(|(name, value)| (name.as_str().unwrap().to_owned(), text(value)))
                .collect();
            substitute(template.as_str().unwrap(), &variables)
        }
        ("!Ref", None) => match tagged.value.as_str() {
            Some("AWS::StackName") => Value::String(stack.0.clone()),
            Some("AWS::StackId") => Value::String(stack.1.clone()),
            other => panic!("!Ref {other:?} in a name"),
        },
        ("!Split", Some([delimiter, source])) => Value::Array(
            text(source)
                .split(delimiter.as_str().unwrap())
                .map(|part| Value::String(part.to_owned()))
                .collect(),
        ),
        ("!Select", Some([index, list])) => {
            let index = index.as_u64().expect("!Select's index") as usize;
            evaluated(list, stack)[index].clone()
        }
        ("!Join", Some([delimiter, parts])) => Value::String(
            parts
                .as_sequence()
                .expect("!Join's parts")
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join(delimiter.as_str().unwrap()),
        ),
        (tag, _) => panic!("{tag} in a name is not evaluated by the tests"),
    }
}

/// AWS's longest value of each name property a template may derive from
/// its stack.
fn name_limit(resource_type: &str, property: &str) -> Option<usize> {
    match (resource_type, property) {
        // Lambda: "FunctionName ... 1-64 characters".
        ("AWS::Serverless::Function" | "AWS::Lambda::Function", "FunctionName") => Some(64),
        ("AWS::Logs::LogGroup", "LogGroupName") => Some(512),
        ("AWS::CloudWatch::Dashboard", "DashboardName") => Some(255),
        ("AWS::Logs::QueryDefinition", "Name") => Some(255),
        ("AWS::KMS::Alias", "AliasName") => Some(256),
        _ => None,
    }
}

/// CONTRACT §11: a stack name of any length CloudFormation accepts (128)
/// deploys; before, the hooks' `CodeDeployHook_<stack>-…` passed Lambda's
/// 64 characters from a 39-character stack name on.
#[test]
fn every_name_derived_from_the_stack_fits_awss_limits_for_the_longest_stack_name() {
    let stack = longest_stack();
    assert_eq!(stack.0.len(), 128);
    let template = template();
    let mut checked = 0;
    for (resource, definition) in template["Resources"].as_mapping().unwrap() {
        let resource = resource.as_str().unwrap();
        let resource_type = definition["Type"].as_str().unwrap_or_default();
        for (property, value) in definition["Properties"].as_mapping().into_iter().flatten() {
            let property = property.as_str().unwrap();
            if !serde_norway::to_string(value)
                .unwrap()
                .contains("AWS::Stack")
            {
                continue;
            }
            let Some(limit) = name_limit(resource_type, property) else {
                continue;
            };
            let Value::String(name) = evaluated(value, &stack) else {
                panic!("{resource}.{property} is not a name");
            };
            assert!(
                name.len() <= limit,
                "{resource}.{property}: {} characters, AWS allows {limit}: {name}",
                name.len()
            );
            if property == "FunctionName" {
                assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)),
                    "{resource}: {name}"
                );
            }
            checked += 1;
        }
    }
    // Two hooks, five log groups, the dashboard, four queries, the alias.
    assert!(checked >= 13, "{checked} names checked");
}
