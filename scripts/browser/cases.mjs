// The web app's own call in headless Chromium (Debian's, driven by
// playwright-core), against the template's HTTP API under `sam local
// start-api` over HTTPS: what the page could read, what the browser sent
// and refused, and the DynamoDB item after each case. browser.sh starts
// everything and passes it in the environment; prints one `ok  ` or
// `FAIL` line per case, then `cases: PASSED of RUN in Chromium VERSION`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual as same } from "node:util";
import { chromium } from "playwright-core";

const env = process.env;
const ROOT = new URL("../..", import.meta.url).pathname;
const EXPECTED = JSON.parse(readFileSync(join(ROOT, "tests/expected-responses.json")));
const [OWNER, REPO, INSTALLATION] = ["acme", "my-backend", "inst-backend"];
const SAME_SITE_APP = `https://app.nectr.test:${env.APP_PORT}`;
const OTHER_SITE_APP = `https://app.nectr-web.test:${env.APP_PORT}`;
const FOREIGN_PAGE = `https://foreign.test:${env.APP_PORT}`;
// Two `sam local start-api` of the template on one host, api.nectr.test:
// WebAppOrigin is the same-site app for the first, the app on another site
// for the second. A cookie belongs to the host, not the port.
const apis = {
  sameSite: { url: env.API_SAME_SITE, log: env.API_SAME_SITE_LOG },
  otherSite: { url: env.API_OTHER_SITE, log: env.API_OTHER_SITE_LOG },
};

function world(args) {
  return execFileSync(join(ROOT, "target/debug/test-world"), args).toString();
}

function curlGithub(path, method = "GET") {
  return execFileSync("curl", ["-sS", "--cacert", env.CA_FILE, "-X", method, env.GITHUB_URL + path]).toString();
}

function reseed() {
  world(["reset"]);
  curlGithub("/_reset", "POST");
}

const isActive = () => JSON.parse(world(["item", `${OWNER}/${REPO}`, INSTALLATION])).is_active?.BOOL;
const githubDeletes = () =>
  JSON.parse(curlGithub("/_received")).filter((r) => r.method === "DELETE").map((r) => r.path);
// START lines of the runtime, written as an invocation begins.
const invocations = (api) => readFileSync(api.log, "utf8").split("START RequestId:").length - 1;

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "nectr-chromium-")), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP api.nectr.test 127.0.0.1, MAP app.nectr.test 127.0.0.1, " +
      "MAP app.nectr-web.test 127.0.0.1, MAP foreign.test 127.0.0.1",
  ],
  // The run's CA is trusted through the NSS database browser.sh made in
  // this HOME, as a user's added CA is: no certificate error is ignored.
  env: { ...env, HOME: env.NSS_HOME },
});
// A persistent context has no Browser object to ask.
const version = execFileSync("/usr/bin/chromium", ["--version"]).toString().trim();

// A case's start: the fixtures' state afresh, and this one cookie in the
// browser.
async function startWithCookie(api, token, sameSite) {
  reseed();
  await browser.clearCookies();
  // Host-only, as the backend's Set-Cookie without Domain makes it.
  await browser.addCookies([{ name: "access_token", value: token, url: api.url, httpOnly: true, secure: true, sameSite }]);
}

// The page's call, with what the browser sent and received on the wire and
// what it said on the console.
async function call(pageOrigin, api, path) {
  const page = await browser.newPage();
  const wire = [];
  const consoleLines = [];
  page.on("console", (message) => consoleLines.push(message.text()));
  // Why Chromium withheld a cookie, in its own words (DevTools' blocked
  // reasons): what the page itself is never told.
  const withheld = [];
  const devtools = await browser.newCDPSession(page);
  await devtools.send("Network.enable");
  devtools.on("Network.requestWillBeSentExtraInfo", ({ associatedCookies }) => {
    for (const { cookie, blockedReasons } of associatedCookies ?? [])
      if (cookie.name === "access_token" && blockedReasons.length) withheld.push(...blockedReasons);
  });
  page.on("response", async (response) => {
    if (response.url().startsWith(api.url)) {
      wire.push({
        method: response.request().method(),
        sent: await response.request().allHeaders(),
        received: await response.allHeaders(),
      });
    }
  });
  page.on("requestfailed", (request) => {
    if (request.url().startsWith(api.url)) wire.push({ method: request.method(), failed: request.failure()?.errorText });
  });
  await page.goto(pageOrigin + "/");
  const read = await page.evaluate(
    ([url, owner, repo, path]) => window.disconnectRepository(url, owner, repo, path),
    [api.url, OWNER, REPO, path],
  );
  await page.waitForTimeout(200);
  return { page, read, wire, console: consoleLines, withheld };
}

// What API Gateway puts on every answer to an allowed origin with
// credentials: that origin, never `*`, and Allow-Credentials.
function corsProblems(exchange, origin) {
  const problems = [];
  const answered = exchange.wire.filter((w) => w.received && w.method !== "OPTIONS");
  if (answered.length === 0) problems.push("no answer on the wire");
  for (const { received } of answered) {
    if (received["access-control-allow-origin"] !== origin)
      problems.push(`access-control-allow-origin ${received["access-control-allow-origin"]}, expected ${origin}`);
    if (received["access-control-allow-credentials"] !== "true")
      problems.push(`access-control-allow-credentials ${received["access-control-allow-credentials"]}`);
    // SAM's divergence. API Gateway: "For a CORS request, API Gateway adds
    // the configured CORS headers to the response from an integration"
    // (docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html),
    // and the template configures ExposeHeaders (retry-after,
    // www-authenticate). `sam local start-api` adds every configured header
    // but Access-Control-Expose-Headers, and no template setting changes
    // that: so a page under SAM cannot read a 503's Retry-After.
    if (received["access-control-expose-headers"] !== undefined)
      problems.push(`access-control-expose-headers ${received["access-control-expose-headers"]}: SAM sends it now`);
  }
  return problems;
}

function sentHeaders(exchange) {
  return exchange.wire.find((w) => w.method === "DELETE" && w.sent)?.sent ?? {};
}

function expectRead(exchange, status, body) {
  const { read } = exchange;
  return read.status === status && same(read.body, body)
    ? []
    : [`the page read ${JSON.stringify(read)}, expected ${status} ${JSON.stringify(body)}`];
}

function expectSent(exchange, origin, site, cookie) {
  const sent = sentHeaders(exchange);
  const problems = [];
  if (sent.origin !== origin) problems.push(`Origin ${sent.origin}, expected ${origin}`);
  if (sent["sec-fetch-site"] !== site) problems.push(`Sec-Fetch-Site ${sent["sec-fetch-site"]}, expected ${site}`);
  if (Boolean(sent.cookie?.includes("access_token=")) !== cookie)
    problems.push(cookie ? "the cookie was not sent" : "the cookie was sent");
  return problems;
}

function expectItem(active) {
  const now = isActive();
  return now === active ? [] : [`the installation is_active ${now}, expected ${active}`];
}

// A valid cookie, a call from `pageOrigin` the browser must stop at the
// preflight: the page reads a network error, the console says why, the
// function is never invoked and the item stays active.
async function refusedAtPreflight(pageOrigin, path) {
  await startWithCookie(apis.sameSite, env.TOKEN, "Lax");
  const before = invocations(apis.sameSite);
  const exchange = await call(pageOrigin, apis.sameSite, path);
  await new Promise((done) => setTimeout(done, 2000));
  const problems = [...expectItem(true)];
  if (exchange.read.failed !== "ERR_NETWORK") problems.push(`the page read ${JSON.stringify(exchange.read)}`);
  if (exchange.wire.some((w) => w.method === "DELETE" && w.received)) problems.push("the DELETE was sent and answered");
  const preflight = exchange.console.find((line) => line.includes("preflight"));
  if (!preflight) problems.push(`no preflight refusal on the console: ${JSON.stringify(exchange.console)}`);
  if (invocations(apis.sameSite) !== before) problems.push("the function was invoked");
  return { problems, seen: [`page: ${JSON.stringify(exchange.read)}`, `console: ${preflight}`] };
}

const unauthorized = { detail: "Unauthorized" };
const cases = [
  {
    name: "1. same-site app, valid cookie: the page reads 200 and the body, the item inactive, the hook deleted",
    async run() {
      await startWithCookie(apis.sameSite, env.TOKEN, "Lax");
      const exchange = await call(SAME_SITE_APP, apis.sameSite);
      await exchange.page.screenshot({ path: env.SCREENSHOT });
      const problems = [
        ...expectRead(exchange, 200, EXPECTED["http-api-disconnect-with-webhook"].body),
        ...expectSent(exchange, SAME_SITE_APP, "same-site", true),
        ...corsProblems(exchange, SAME_SITE_APP),
        ...expectItem(false),
      ];
      if (!same(githubDeletes(), [`/repos/${OWNER}/${REPO}/hooks/42`]))
        problems.push(`the GitHub stub received DELETEs ${JSON.stringify(githubDeletes())}`);
      return { problems, seen: [`screenshot: ${env.SCREENSHOT}`] };
    },
  },
  {
    name: "2. the same again: the page reads 404 and detail \"Installation not found\"",
    async run() {
      const exchange = await call(SAME_SITE_APP, apis.sameSite);
      return {
        problems: [
          ...expectRead(exchange, 404, { detail: "Installation not found" }),
          ...corsProblems(exchange, SAME_SITE_APP),
          ...expectItem(false),
        ],
      };
    },
  },
  {
    name: "3. an expired cookie: the page reads 401 and detail \"Unauthorized\", CORS headers on the error, the item active",
    async run() {
      await startWithCookie(apis.sameSite, env.EXPIRED_TOKEN, "Lax");
      const exchange = await call(SAME_SITE_APP, apis.sameSite);
      return {
        problems: [
          ...expectRead(exchange, 401, unauthorized),
          ...expectSent(exchange, SAME_SITE_APP, "same-site", true),
          ...corsProblems(exchange, SAME_SITE_APP),
          ...expectItem(true),
        ],
      };
    },
  },
  {
    name: "4. a foreign page: the browser refuses at the preflight, the function is not invoked, the item unchanged",
    run: () => refusedAtPreflight(FOREIGN_PAGE),
  },
  {
    name: "5. the allowed app origin on another site, SameSite=None; Secure cookie",
    async run() {
      await startWithCookie(apis.otherSite, env.TOKEN, "None");
      const exchange = await call(OTHER_SITE_APP, apis.otherSite);
      // This Chromium's own default decides whether a third-party cookie
      // goes: what it did is stated, and the answer must follow from it.
      const sent = Boolean(sentHeaders(exchange).cookie?.includes("access_token="));
      const problems = [
        ...expectSent(exchange, OTHER_SITE_APP, "cross-site", sent),
        ...corsProblems(exchange, OTHER_SITE_APP),
        ...(sent
          ? [...expectRead(exchange, 200, EXPECTED["http-api-disconnect-with-webhook"].body), ...expectItem(false)]
          : [...expectRead(exchange, 401, unauthorized), ...expectItem(true)]),
      ];
      const found = sent
        ? `${version} sends third-party cookies by default: 200, the item inactive`
        : `${version} blocks third-party cookies by default (withheld: ${exchange.withheld.join(", ")}): 401, the item active`;
      return { problems, name: `${this.name}: ${found}` };
    },
  },
  {
    name: "6. the same page with the default SameSite=Lax cookie: not sent, the page reads 401, the item active",
    async run() {
      await startWithCookie(apis.otherSite, env.TOKEN, "Lax");
      const exchange = await call(OTHER_SITE_APP, apis.otherSite);
      return {
        seen: [`withheld: ${exchange.withheld.join(", ")}`],
        problems: [
          ...expectSent(exchange, OTHER_SITE_APP, "cross-site", false),
          ...expectRead(exchange, 401, unauthorized),
          ...corsProblems(exchange, OTHER_SITE_APP),
          ...expectItem(true),
        ],
      };
    },
  },
  {
    name: "7. a path the template has no route for: refused by the emulated gateway, the function not invoked",
    // SAM's divergence. API Gateway answers a preflight for any path: "If
    // you configure CORS for an API, API Gateway automatically sends a
    // response to preflight OPTIONS requests, even if there isn't an
    // OPTIONS route configured for your API" (http-api-cors.html), and an
    // HTTP API answers a request no route matches with 404
    // {"message":"Not Found"}. `sam local start-api` answers the preflight
    // without CORS headers, so the browser stops there (the DELETE itself
    // gets REST API's 403 {"message":"Missing Authentication Token"}, as
    // make sam-local shows). No template setting changes that without a
    // $default route, which would invoke the function for every stray path.
    run: () => refusedAtPreflight(SAME_SITE_APP, `/api/v1/repos/${OWNER}/${REPO}`),
  },
];

let passed = 0;
for (const testCase of cases) {
  let outcome;
  try {
    outcome = await testCase.run();
  } catch (error) {
    outcome = { problems: [`threw: ${error.stack ?? error}`] };
  }
  const ok = outcome.problems.length === 0;
  passed += ok;
  console.log(`${ok ? "ok  " : "FAIL"} ${outcome.name ?? testCase.name}`);
  for (const line of ok ? outcome.seen ?? [] : outcome.problems) console.log(`     ${line}`);
}
await browser.close();
console.log(`cases: ${passed} of ${cases.length} in ${version.split(" built")[0]}`);
process.exit(passed === cases.length ? 0 : 1);
