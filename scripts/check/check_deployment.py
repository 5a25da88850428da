#!/usr/bin/env python3
"""The deployment CONTRACT §11 promises, checked on the template as AWS SAM
transforms it (aws-sam-translator, the transform CloudFormation runs), since
the aliases, versions, deployment groups and permissions exist only there:

- the HTTP API's permission and the queue's event source mapping name each
  function's `live` alias, never the function itself;
- each function's alias moves by CodeDeploy, behind its pre-traffic hook,
  with automatic rollback on its rollback alarms;
- every rollback alarm watches the very version being deployed (Lambda's
  `ExecutedVersion`, or the `function_version` the functions publish), so
  the old version's trouble never rolls back the deploy that fixes it, and
  the errors alarm among them watches invocations through the alias;
- each hook may invoke only that version and report only to that
  function's deployment group, and is named so that SAM's CodeDeploy
  service role (AWSCodeDeployRoleForLambda) may invoke it.

    .venv/bin/python scripts/check/check_deployment.py template.yaml
"""
import logging
import os
import sys

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

FUNCTIONS = {
    # function: (hook, rollback alarms, errors alarm)
    "DisconnectFunction": (
        "DisconnectPreTrafficHook",
        ["DisconnectErrorsAlarm", "MisconfigurationAlarm", "DisconnectServerErrorsAlarm"],
        "DisconnectErrorsAlarm",
    ),
    "CleanupFunction": (
        "CleanupPreTrafficHook",
        ["CleanupErrorsAlarm", "CleanupInvalidJobAlarm"],
        "CleanupErrorsAlarm",
    ),
}


class NoManagedPolicies:
    """The template names no managed policy by name; nothing to look up."""

    def load(self):
        return {}


def transformed(path):
    # The transform wants an S3 location where `sam build` would put one.
    text = open(path).read().replace("CodeUri: .", "CodeUri: s3://bucket/key")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(yaml_parse(text), {}, NoManagedPolicies())["Resources"]


def ref(value):
    return value.get("Ref") if isinstance(value, dict) else None


def check(resources):
    failures = []

    def expect(condition, message):
        if not condition:
            failures.append(message)

    by_type = {}
    for name, resource in resources.items():
        by_type.setdefault(resource["Type"], []).append((name, resource))
    for function, (hook, rollback_alarms, errors_alarm) in FUNCTIONS.items():
        alias = f"{function}Aliaslive"
        group = f"{function}DeploymentGroup"
        expect(alias in resources, f"{function}: no live alias ({alias})")
        if alias not in resources:
            continue
        version = resources[alias]["Properties"]["FunctionVersion"].get("Fn::GetAtt", [""])[0]
        expect(version.startswith(f"{function}Version"), f"{alias}: no published version")

        callers = [
            (name, r)
            for name, r in by_type.get("AWS::Lambda::Permission", [])
            + by_type.get("AWS::Lambda::EventSourceMapping", [])
            if name.startswith(function)
        ]
        expect(callers, f"{function}: nothing invokes it")
        for name, caller in callers:
            target = ref(caller["Properties"]["FunctionName"])
            expect(target == alias, f"{name} invokes {target}, not {alias}")

        update = resources[alias].get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
        expect(ref(update.get("DeploymentGroupName")) == group, f"{alias}: not moved by {group}")
        expect(ref(update.get("BeforeAllowTrafficHook")) == hook, f"{alias}: {hook} is not its pre-traffic hook")

        deployment = resources.get(group, {}).get("Properties", {})
        alarms = [ref(a["Name"]) for a in deployment.get("AlarmConfiguration", {}).get("Alarms", [])]
        expect(alarms == rollback_alarms, f"{group}: rollback alarms {alarms}, expected {rollback_alarms}")
        rollback = deployment.get("AutoRollbackConfiguration", {})
        expect(
            rollback.get("Enabled") is True and "DEPLOYMENT_STOP_ON_ALARM" in rollback.get("Events", []),
            f"{group}: an alarm does not roll the deployment back",
        )

        the_version = {"Fn::GetAtt": [version, "Version"]}
        for alarm in alarms:
            scoped = {d["Name"]: d["Value"] for d in resources[alarm]["Properties"]["Dimensions"]}
            expect(
                the_version in (scoped.get("ExecutedVersion"), scoped.get("function_version")),
                f"{alarm}: does not watch the version being deployed ({version})",
            )
        dimensions = {d["Name"]: d["Value"] for d in resources[errors_alarm]["Properties"]["Dimensions"]}
        expect(
            dimensions.get("Resource") == {"Fn::Sub": f"${{{function}}}:live"},
            f"{errors_alarm}: does not watch invocations through the alias",
        )

        hook_properties = resources[hook]["Properties"]
        name = hook_properties["FunctionName"]
        # `!Sub text` or `!Sub [text, variables]`.
        text = name.get("Fn::Sub") if isinstance(name, dict) else name
        text = text[0] if isinstance(text, list) else text
        expect(
            isinstance(text, str) and text.startswith("CodeDeployHook_"),
            f"{hook}: AWSCodeDeployRoleForLambda may invoke only functions named CodeDeployHook_*",
        )
        expect(
            ref(hook_properties["Environment"]["Variables"]["NEW_VERSION"]) == version,
            f"{hook}: NEW_VERSION is not {version}",
        )
        role = hook_properties["Role"]["Fn::GetAtt"][0]
        statements = [
            s
            for policy in resources[role]["Properties"]["Policies"]
            for s in policy["PolicyDocument"]["Statement"]
        ]
        grants = {}
        for statement in statements:
            expect(statement["Effect"] == "Allow", f"{role}: unexpected {statement}")
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                grants[action] = statement["Resource"]
        expect(ref(grants.get("lambda:InvokeFunction")) == version, f"{role}: may invoke more than {version}")
        report_to = grants.get("codedeploy:PutLifecycleEventHookExecutionStatus", {}).get("Fn::Sub", "")
        expect(
            report_to.endswith(f":deploymentgroup:${{ServerlessDeploymentApplication}}/${{{group}}}"),
            f"{role}: may report to more than {group} ({report_to})",
        )
        expect(
            sorted(grants)
            == sorted(
                [
                    "codedeploy:PutLifecycleEventHookExecutionStatus",
                    "lambda:InvokeFunction",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "xray:PutTelemetryRecords",
                    "xray:PutTraceSegments",
                ]
            ),
            f"{role}: grants {sorted(grants)}",
        )

    service_role = resources.get("CodeDeployServiceRole", {}).get("Properties", {})
    expect(
        any(a.endswith("/AWSCodeDeployRoleForLambda") for a in service_role.get("ManagedPolicyArns", [])),
        "CodeDeployServiceRole: not AWSCodeDeployRoleForLambda",
    )
    return failures


# The translator logs its feature toggles, which mean nothing offline.
logging.disable(logging.WARNING)
failures = check(transformed(sys.argv[1]))
for failure in failures:
    print(f"FAIL {failure}")
if failures:
    sys.exit(1)
print(
    f"deployment: {', '.join(FUNCTIONS)} called through their live alias, moved by CodeDeploy "
    "behind their pre-traffic hooks with rollback alarms that each watch the new version alone; "
    "each hook invokes only the new version and reports only to its deployment group"
)
