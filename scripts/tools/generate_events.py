#!/usr/bin/env python3
"""Regenerate the event fixtures in events/.

Each fixture is a real event shape: HTTP API (payload 2.0), REST API proxy
(payload 1.0) or Lambda function URL for the disconnect, and an SQS batch
(`sqs-*`) for the cleanup worker. Tokens are signed with the local test
key (`test-world mint-jwt`) for the user `fixture-user` and expire in 2100, except the
expired one. tests/expected-responses.json holds the expected response of each
file.
"""
import hashlib
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def mint(sub: str, iat: int, exp: int = 4102444800) -> str:
    command = ["cargo", "run", "--quiet", "-p", "test-world", "--bin", "test-world", "--", "mint-jwt", sub, "--iat", str(iat), "--exp", str(exp)]
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


USER = "fixture-user"
VALID = mint(USER, iat=1767225600)
EXPIRED = mint(USER, exp=1577836800, iat=1577833200)  # expired 2020-01-01
HOST = "abcdef1234.execute-api.eu-west-1.amazonaws.com"
ROUTE = "/api/v1/repos/{owner}/{repo}/install"


def path(owner: str, repo: str) -> str:
    return f"/api/v1/repos/{owner}/{repo}/install"


def http_api(method, raw_path, headers, cookies=None, stage="$default", route_key=None, path_params=None):
    event = {
        "version": "2.0",
        "routeKey": route_key or f"DELETE {ROUTE}",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"host": HOST, "user-agent": "nectr-web/1.0", "x-forwarded-proto": "https", **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": HOST,
            "domainPrefix": "abcdef1234",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "nectr-web/1.0",
            },
            "requestId": "fixture-request-id",
            "routeKey": route_key or f"DELETE {ROUTE}",
            "stage": stage,
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if path_params:
        event["pathParameters"] = path_params
    return event


def rest_api(method, request_path, headers, stage="prod", path_params=None, repeated=None):
    """`repeated` names headers the client sent more than once: API Gateway
    lists every value in multiValueHeaders and keeps the last in headers."""
    all_values = {k: [v] for k, v in {"Host": HOST, "User-Agent": "nectr-web/1.0", "X-Forwarded-Proto": "https", **headers}.items()}
    all_values.update(repeated or {})
    return {
        "resource": ROUTE,
        "path": request_path,
        "httpMethod": method,
        "headers": {k: v[-1] for k, v in all_values.items()},
        "multiValueHeaders": all_values,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": HOST,
            "domainPrefix": "abcdef1234",
            "httpMethod": method,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "nectr-web/1.0"},
            "path": f"/{stage}{request_path}",
            "protocol": "HTTP/1.1",
            "requestId": "fixture-request-id",
            "requestTimeEpoch": 1767225600000,
            "resourceId": "abc123",
            "resourcePath": ROUTE,
            "stage": stage,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def function_url(method, raw_path, headers):
    event = http_api(method, raw_path, headers, route_key="$default")
    event["requestContext"]["domainName"] = "abcdefghij.lambda-url.eu-west-1.on.aws"
    event["headers"]["host"] = "abcdefghij.lambda-url.eu-west-1.on.aws"
    return event


def sqs_event(bodies):
    """Lambda's SQS event: one record a body, as the event source mapping
    delivers them from the cleanup queue."""
    records = []
    for n, body in enumerate(bodies, start=1):
        records.append({
            "messageId": f"00000000-0000-4000-8000-00000000000{n}",
            "receiptHandle": f"fixture-receipt-{n}",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1767225600000",
                "SenderId": "AROAEXAMPLE:nectr-disconnect",
                "ApproximateFirstReceiveTimestamp": "1767225660000",
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:nectr-webhook-cleanup",
            "awsRegion": "eu-west-1",
        })
    return {"Records": records}


def cleanup_job(repo, installation_id, webhook_id):
    return json.dumps({
        "v": 1, "user_id": USER, "repo": repo, "installation_id": installation_id,
        "webhook_id": webhook_id, "disconnected_at": "2026-01-02T03:04:05.000000Z",
    }, separators=(",", ":"))


BEARER = {"authorization": f"Bearer {VALID}"}
# ALLOWED_ORIGINS of the fixtures' world (env.json, the suite's fakes).
WEB_APP = "https://app.nectr.ai"
COOKIE = f"access_token={VALID}"
PARAMS = {"owner": "acme", "repo": "my-backend"}

FIXTURES = {
    "http-api-disconnect-with-webhook": http_api("DELETE", path("acme", "my-backend"), BEARER, path_params=PARAMS),
    "http-api-disconnect-without-webhook": http_api(
        "DELETE", path("acme", "docs"), BEARER, path_params={"owner": "acme", "repo": "docs"}
    ),
    "http-api-disconnect-mixed-case": http_api(
        "DELETE", path("ACME", "My-Backend"), BEARER, path_params={"owner": "ACME", "repo": "My-Backend"}
    ),
    "http-api-not-connected": http_api(
        "DELETE", path("acme", "never-connected"), BEARER, path_params={"owner": "acme", "repo": "never-connected"}
    ),
    "http-api-no-auth": http_api("DELETE", path("acme", "my-backend"), {}, path_params=PARAMS),
    "http-api-bad-token": http_api(
        "DELETE", path("acme", "my-backend"), {"authorization": "Bearer not-a-jwt"}, path_params=PARAMS
    ),
    "http-api-expired-token": http_api(
        "DELETE", path("acme", "my-backend"), {"authorization": f"Bearer {EXPIRED}"}, path_params=PARAMS
    ),
    "http-api-cookie-auth": http_api(
        "DELETE", path("acme", "my-backend"), {}, cookies=["theme=dark", f"access_token={VALID}"], path_params=PARAMS
    ),
    "http-api-cookie-auth-web-app-origin": http_api(
        "DELETE", path("acme", "my-backend"), {"origin": WEB_APP, "sec-fetch-site": "same-site"},
        cookies=[COOKIE], path_params=PARAMS
    ),
    "http-api-cookie-auth-foreign-origin": http_api(
        "DELETE", path("acme", "my-backend"), {"origin": "https://evil.example"}, cookies=[COOKIE], path_params=PARAMS
    ),
    "http-api-cookie-auth-cross-site": http_api(
        "DELETE", path("acme", "my-backend"), {"sec-fetch-site": "cross-site"}, cookies=[COOKIE], path_params=PARAMS
    ),
    "http-api-cookie-auth-two-cookies": http_api(
        "DELETE", path("acme", "my-backend"), {}, cookies=["access_token=forged", COOKIE], path_params=PARAMS
    ),
    "http-api-cookie-auth-web-app-other-site": http_api(
        "DELETE", path("acme", "my-backend"), {"origin": WEB_APP, "sec-fetch-site": "cross-site"},
        cookies=[COOKIE], path_params=PARAMS
    ),
    "http-api-bearer-foreign-origin": http_api(
        "DELETE", path("acme", "my-backend"), {**BEARER, "origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        path_params=PARAMS
    ),
    "http-api-wrong-method": http_api("PATCH", path("acme", "my-backend"), BEARER, route_key="$default"),
    "http-api-unknown-path": http_api("DELETE", "/api/v1/repos/acme/my-backend", BEARER, route_key="$default"),
    "http-api-malformed-owner": http_api(
        "DELETE", path("ac.me", "my-backend"), BEARER, path_params={"owner": "ac.me", "repo": "my-backend"}
    ),
    "http-api-encoded-slash": http_api(
        "DELETE", path("acme", "my%2Fbackend"), BEARER, path_params={"owner": "acme", "repo": "my/backend"}
    ),
    "http-api-named-stage": http_api(
        "DELETE", "/prod" + path("acme", "my-backend"), BEARER, stage="prod", path_params=PARAMS
    ),
    "rest-api-disconnect-with-webhook": rest_api("DELETE", path("acme", "my-backend"), {"Authorization": f"Bearer {VALID}"}, path_params=PARAMS),
    "rest-api-disconnect-without-webhook": rest_api(
        "DELETE", path("acme", "docs"), {"Authorization": f"Bearer {VALID}"}, path_params={"owner": "acme", "repo": "docs"}
    ),
    "rest-api-stage-in-path": rest_api(
        "DELETE", "/prod" + path("acme", "my-backend"), {"Authorization": f"Bearer {VALID}"}, path_params=PARAMS
    ),
    "rest-api-no-auth": rest_api("DELETE", path("acme", "my-backend"), {}, path_params=PARAMS),
    "rest-api-bad-token": rest_api("DELETE", path("acme", "my-backend"), {"Authorization": "Bearer not-a-jwt"}, path_params=PARAMS),
    "rest-api-expired-token": rest_api(
        "DELETE", path("acme", "my-backend"), {"Authorization": f"Bearer {EXPIRED}"}, path_params=PARAMS
    ),
    "rest-api-cookie-auth": rest_api(
        "DELETE", path("acme", "my-backend"), {"Cookie": f"theme=dark; access_token={VALID}"}, path_params=PARAMS
    ),
    "rest-api-cookie-auth-foreign-origin": rest_api(
        "DELETE", path("acme", "my-backend"), {"Cookie": COOKIE, "Origin": "https://evil.example"}, path_params=PARAMS
    ),
    "rest-api-two-authorization-headers": rest_api(
        "DELETE", path("acme", "my-backend"), {}, path_params=PARAMS,
        repeated={"Authorization": ["Bearer forged", f"Bearer {VALID}"]}
    ),
    "rest-api-two-cookie-headers": rest_api(
        "DELETE", path("acme", "my-backend"), {}, path_params=PARAMS,
        repeated={"Cookie": ["access_token=forged", COOKIE]}
    ),
    "rest-api-wrong-method": rest_api("POST", path("acme", "my-backend"), {"Authorization": f"Bearer {VALID}"}, path_params=PARAMS),
    "rest-api-unknown-path": rest_api("DELETE", "/api/v1/repos", {"Authorization": f"Bearer {VALID}"}),
    "rest-api-malformed-owner": rest_api(
        "DELETE", path("ac_me", "my-backend"), {"Authorization": f"Bearer {VALID}"}, path_params={"owner": "ac_me", "repo": "my-backend"}
    ),
    "function-url-disconnect-with-webhook": function_url("DELETE", path("acme", "my-backend"), BEARER),
    # A hook of an earlier connection (removed), one the active installation
    # carries again (in use), a forged job naming another hook than its
    # installation's (invalid) and a body that can never be a job (dropped).
    "sqs-cleanup-batch": sqs_event([
        cleanup_job("acme/my-backend", "inst-earlier", 7),
        cleanup_job("acme/my-backend", "inst-backend-2025", 42),
        cleanup_job("acme/my-backend", "inst-earlier", 99),
        "this is not a cleanup job",
    ]),
}

if __name__ == "__main__":
    EVENTS.mkdir(exist_ok=True)
    for name, event in FIXTURES.items():
        (EVENTS / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
    print(f"wrote {len(FIXTURES)} fixtures to {EVENTS}")
