"""The template's HTTP API as `sam local start-api` serves it over HTTPS,
checked the way a client sees it: a real disconnect (200, the item
inactive, the DELETE at the GitHub stub), the same request again (404), a
PATCH answered 405 with the route's `Allow` by the function itself, the CORS preflight from the web app's origin answered as the template's
CorsConfiguration says, a foreign origin's preflight not allowed, and a
path the template has no route for refused without invoking the function.
Prints one `ok  ` or `FAIL` line per check.

usage: check_start_api.py API_URL CA_FILE GITHUB_STUB_URL START_API_LOG
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The template's WebAppOrigin default, and CorsConfiguration.
WEB_APP = "https://app.nectr.ai"
ROUTE = "/api/v1/repos/acme/my-backend/install"
EXPECTED = json.loads((ROOT / "tests/expected-responses.json").read_text())

api, ca_file, github, log_file = sys.argv[1:5]
token = subprocess.run(
    [ROOT / "target/debug/test-world", "mint-jwt"], check=True, capture_output=True, text=True
).stdout.strip()
failed = 0


def request(method, path, headers=None, base=None):
    """One request through curl, trusting the run's CA only: (status,
    headers with lower-case names, body)."""
    with tempfile.NamedTemporaryFile() as body:
        command = ["curl", "--silent", "--show-error", "--cacert", ca_file, "--max-time", "60",
                   "--request", method, "--dump-header", "-", "--output", body.name]
        for name, value in (headers or {}).items():
            command += ["--header", f"{name}: {value}"]
        head = subprocess.run(command + [(base or api) + path], capture_output=True, check=True, text=True).stdout
        status_line, *header_lines = head.strip().splitlines()
        answer = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            answer[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), answer, pathlib.Path(body.name).read_bytes()


def invocations():
    """Invocations the emulator started so far, by the runtime's START lines."""
    return open(log_file).read().count("START RequestId:")


def check(name, problems, shown=()):
    """One line per check; under it what was wrong, or else what was seen."""
    global failed
    failed += bool(problems)
    print(f"{'FAIL' if problems else 'ok  '} {name}")
    for line in problems or shown:
        print(f"     {line}")


def exchange(method, path, status, headers, body, show=("content-type",)):
    """The exchange as curl -i would show it, trimmed to what matters."""
    lines = [f"> {method} {path}", f"< HTTP {status}"]
    lines += [f"< {name}: {headers[name]}" for name in show if name in headers]
    if body:
        lines.append(f"< {body.decode(errors='replace').strip()}")
    return lines


def installation():
    item = subprocess.run(
        [ROOT / "target/debug/test-world", "item", "acme/my-backend", "inst-backend"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(item)


def expect(status, body, wanted_status, wanted_body):
    problems = []
    if status != wanted_status:
        problems.append(f"status {status}, expected {wanted_status}")
    if json.loads(body or b"null") != wanted_body:
        problems.append(f"body {body!r}, expected {json.dumps(wanted_body)}")
    return problems


bearer = {"Authorization": f"Bearer {token}"}
status, headers, body = request("DELETE", ROUTE, bearer)
problems = expect(status, body, 200, EXPECTED["http-api-disconnect-with-webhook"]["body"])
if installation().get("is_active") != {"BOOL": False}:
    problems.append("the installation is still active")
github_received = json.loads(request("GET", "/_received", base=github)[2])
deletes = [r["path"] for r in github_received if r["method"] == "DELETE"]
if deletes != ["/repos/acme/my-backend/hooks/42"]:
    problems.append(f"the GitHub stub received {deletes}")
check(
    f"DELETE {ROUTE} with a valid token: {status}, the item inactive, the hook deleted",
    problems,
    exchange("DELETE", ROUTE, status, headers, body),
)

status, headers, body = request("DELETE", ROUTE, bearer)
check(
    f"the same request again: {status}",
    expect(status, body, 404, {"detail": "Installation not found"}),
    exchange("DELETE", ROUTE, status, headers, body),
)

# Every method of the endpoint's path reaches the function (CONTRACT §1).
# The wrong-method fixture is a PATCH too; its expected Allow is the route's.
not_allowed = EXPECTED["http-api-wrong-method"]
status, headers, body = request("PATCH", ROUTE, bearer)
problems = expect(status, body, 405, not_allowed["body"])
if headers.get("allow") != not_allowed["headers"]["allow"]:
    problems.append(f"allow: {headers.get('allow')!r}, expected {not_allowed['headers']['allow']!r}")
check(
    f"PATCH on the endpoint: {status} from the function, Allow {headers.get('allow')!r}",
    problems,
    exchange("PATCH", ROUTE, status, headers, body, ("content-type", "allow")),
)


def not_invoked(before):
    """The function's START line, were it invoked, is written as it starts."""
    time.sleep(2)
    return ["the function was invoked"] if invocations() != before else []


def preflight(origin):
    """A browser's preflight of the web app's call; it never reaches the function."""
    before = invocations()
    status, headers, _ = request("OPTIONS", ROUTE, {
        "Origin": origin,
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization",
    })
    return status, headers, not_invoked(before)


status, headers, problems = preflight(WEB_APP)
for header, value in {
    "access-control-allow-origin": WEB_APP,
    "access-control-allow-credentials": "true",
    "access-control-max-age": "600",
}.items():
    if headers.get(header) != value:
        problems.append(f"{header}: {headers.get(header)!r}, expected {value!r}")
if "DELETE" not in headers.get("access-control-allow-methods", "").upper():
    problems.append(f"access-control-allow-methods: {headers.get('access-control-allow-methods')!r}")
if status >= 300:
    problems.append(f"status {status}")
cors = ["access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
        "access-control-allow-headers", "access-control-max-age"]
check(
    f"the web app's CORS preflight: {status}, allowed with credentials",
    problems,
    exchange(f"OPTIONS (Origin: {WEB_APP})", ROUTE, status, headers, b"", cors),
)

status, headers, problems = preflight("https://evil.example")
allowed = headers.get("access-control-allow-origin")
if allowed in ("https://evil.example", "*"):
    problems.append(f"allows {allowed}")
check(f"a foreign origin's CORS preflight: {status}, Access-Control-Allow-Origin {allowed!r}", problems)

before = invocations()
status, headers, body = request("DELETE", "/api/v1/repos/acme/my-backend", bearer)
problems = [] if 400 <= status < 500 else [f"status {status}"]
problems += not_invoked(before)
if b'"detail"' in body:
    problems.append(f"the function's body {body!r}")
check(f"a path the template has no route for: {status} from the gateway, {body[:60]!r}", problems)
sys.exit(1 if failed else 0)
