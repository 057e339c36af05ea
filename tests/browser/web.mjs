// web.mjs - the ops page in headless Chromium (mode "page") and the alert stream through the eventsource package (mode "sse"), run by tests/itest_web.c.
//
// Environment: LR_URL (the daemon's http://host:port), LR_REDIS_PORT,
// LR_PREFIX (redis.prefix), LR_AUTH ("user:password" or unset), LR_SHOT
// (the screenshot to write), LR_SYNC (a directory: mode "sse" writes
// "restart" there and waits for the test to write "restarted").
// Prints one "ok ..." line per check, or "FAIL ..." and exits 1.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const URL_ = process.env.LR_URL;
const PORT = process.env.LR_REDIS_PORT;
const P = process.env.LR_PREFIX || "lr:";
const AUTH = process.env.LR_AUTH || "";
const host = new URL(URL_).host;

function fail(msg) {
  console.log("FAIL " + msg);
  process.exit(1);
}
function ok(msg) { console.log("ok " + msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function redis(...args) {
  return execFileSync("redis-cli", ["-p", PORT, "--no-raw", ...args], { encoding: "utf8" }).trim();
}
function rawRedis(...args) {
  return execFileSync("redis-cli", ["-p", PORT, ...args], { encoding: "utf8" }).trim();
}
function pushLead(id, employees) {
  rawRedis("LPUSH", P + "incoming", JSON.stringify({ id, email: id + "@example.com", employees,
    activity: { demo_request: true } }));
}
function pushEvent(ev) { rawRedis("LPUSH", P + "events", JSON.stringify(ev)); }
async function until(what, ms, fn) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail(what + " (not within " + ms + " ms)");
    await sleep(50);
  }
}
const authHeader = AUTH ? { Authorization: "Basic " + Buffer.from(AUTH).toString("base64") } : {};

async function page() {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const [user, pass] = AUTH ? [AUTH.slice(0, AUTH.indexOf(":")), AUTH.slice(AUTH.indexOf(":") + 1)] : [];
  const ctx = await browser.newContext(AUTH ? { httpCredentials: { username: user, password: pass } } : {});
  const pg = await ctx.newPage();
  const errors = [], offHost = [];
  pg.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  pg.on("pageerror", (e) => errors.push(String(e)));
  pg.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol !== "data:" && u.host !== host) offHost.push(r.url());
  });
  const resp = await pg.goto(URL_ + "/");
  if (!resp.ok()) fail("GET / answered " + resp.status());
  const csp = resp.headers()["content-security-policy"] || "";
  if (!csp.includes("default-src 'none'") || csp.includes("unsafe-inline")) fail("CSP is not strict: " + csp);
  await pg.waitForSelector("#conn.live", { timeout: 5000 });
  await pg.waitForSelector('tr[data-rep="ann"]', { timeout: 3000 });
  const open0 = await pg.textContent('tr[data-rep="ann"] td.open');
  ok("page loaded, stream live; ann's load " + open0);

  // A pushed MQL is on the board within 2 s, counting down.
  const t0 = Date.now();
  pushLead("web-1", 20);
  const row = 'tr[data-lead-id="web-1"]';
  await pg.waitForSelector(row, { timeout: 2000 }).catch(() => fail("the MQL is not on the board within 2 s"));
  ok("MQL on the board after " + (Date.now() - t0) + " ms");
  const left1 = await pg.textContent(row + " td.left");
  await sleep(1100);
  const left2 = await pg.textContent(row + " td.left");
  if (left1 === left2) fail("the countdown does not move: " + left1 + " then " + left2);
  ok("countdown moves: " + left1 + " -> " + left2);
  await until("ann's load changes", 2000, async () =>
    (await pg.textContent('tr[data-rep="ann"] td.open')) !== open0);
  const open1 = await pg.textContent('tr[data-rep="ann"] td.open');
  ok("ann's load " + open0 + " -> " + open1);

  // The 3 s SLA runs out: the row turns overdue and a sla_breach item
  // is in the feed, each within 2 s of the due time.
  const due = Number(rawRedis("HGET", P + "lead:web-1", "follow_up_due_ms"));
  const skew = Number(rawRedis("TIME").split("\n")[0]) * 1000 - Date.now();
  const wait = Math.max(0, due - (Date.now() + skew));
  await pg.waitForSelector(row + ".overdue", { timeout: wait + 2000 })
    .catch(() => fail("the row is not overdue within 2 s of its due time"));
  await pg.waitForSelector('li[data-alert-type="sla_breach"][data-lead-id="web-1"]', { timeout: Math.max(0, due - (Date.now() + skew)) + 2000 })
    .catch(() => fail("no sla_breach item in the feed within 2 s"));
  ok("overdue and sla_breach in the feed");

  // More leads, for a board worth a screenshot.
  pushLead("web-2", 500);
  pushLead("web-3", 20);
  pushLead("web-4", 800);
  await pg.waitForSelector('tr[data-lead-id="web-4"]', { timeout: 2000 })
    .catch(() => fail("three more MQLs are not on the board within 2 s"));
  await sleep(600);
  await pg.screenshot({ path: process.env.LR_SHOT, fullPage: true });

  // A follow-up takes the row off; closing the lead frees ann's slot.
  pushEvent({ type: "followed_up", lead_id: "web-1", rep: "ann" });
  await pg.waitForSelector(row, { state: "detached", timeout: 2000 })
    .catch(() => fail("the followed-up row is still on the board after 2 s"));
  ok("follow-up removed the row");
  const open2 = await pg.textContent('tr[data-rep="ann"] td.open');
  const n2 = parseInt(open2, 10);
  pushEvent({ type: "closed", lead_id: "web-1", rep: "ann", outcome: "won" });
  await until("ann's load goes down by one", 2000, async () =>
    parseInt(await pg.textContent('tr[data-rep="ann"] td.open'), 10) === n2 - 1);
  ok("closing brought ann's load from " + open2 + " down by one");

  // Phone width: nothing wider than the screen.
  await pg.setViewportSize({ width: 390, height: 844 });
  await sleep(200);
  const w = await pg.evaluate(() => document.documentElement.scrollWidth);
  if (w > 390) fail("at phone width the page is " + w + " px wide");
  ok("phone width fits (" + w + " px)");

  if (errors.length) fail("console errors: " + errors.join(" | "));
  if (offHost.length) fail("requests off the daemon's host: " + offHost.join(" "));
  ok("no console error, no request off " + host);
  await browser.close();
}

// 1,000 open assignments: the board shows the earliest 200, says how many
// wait, and the filter finds any of them.
async function load() {
  const { chromium } = await import("playwright-core");
  const N = 1000;
  const leads = [];
  for (let i = 0; i < N; i++) {
    leads.push(JSON.stringify({ id: "bulk-" + String(i).padStart(4, "0"), email: "b" + i + "@example.com",
      employees: 20, activity: { demo_request: true } }));
  }
  // Oldest first: RPOP takes the first pushed first.
  execFileSync("redis-cli", ["-p", PORT, "-x", "EVAL",
    "for _, v in ipairs(cjson.decode(ARGV[1])) do redis.call('LPUSH', KEYS[1], v) end return 1",
    "1", P + "incoming"], { input: JSON.stringify(leads) });
  await until("1,000 leads assigned", 20000, () => Number(rawRedis("SCARD", P + "rep:bulk:open")) === N);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const pg = await browser.newPage({ extraHTTPHeaders: authHeader });
  const errors = [];
  pg.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  pg.on("pageerror", (e) => errors.push(String(e)));
  await pg.goto(URL_ + "/");
  await until("the board counts 1,000", 5000, async () =>
    ((await pg.textContent("#board-n")) || "").startsWith(N + " waiting"));
  const rows = await pg.$$eval("#board-rows tr", (t) => t.length);
  if (rows !== 200) fail("the board renders " + rows + " rows, not the earliest 200");
  const first = await pg.getAttribute("#board-rows tr", "data-lead-id");
  if (first !== "bulk-0000") fail("the first row is " + first + ", not the earliest due");
  if (!(await pg.isVisible("#board-more"))) fail("no note says 800 are not shown");
  ok("1,000 open: 200 rows rendered, earliest first, the rest counted");
  const ms = await pg.evaluate(() => { const t = performance.now(); for (let i = 0; i < 20; i++) window.dispatchEvent(new Event("lr-tick")); return performance.now() - t; });
  await pg.fill("#filter", "bulk-0999");
  await until("the filter finds the last lead", 2000, async () =>
    (await pg.$$eval("#board-rows tr", (t) => t.map((r) => r.getAttribute("data-lead-id")))).join() === "bulk-0999");
  ok("the filter finds bulk-0999 (" + ms.toFixed(1) + " ms for 20 ticks)");
  if (errors.length) fail("console errors: " + errors.join(" | "));
  await browser.close();
}

// Every alert once, Last-Event-ID resumes, a Redis restart is survived.
async function sse() {
  const { EventSource } = await import("eventsource");
  const fetchWith = (extra) => (input, init) =>
    fetch(input, { ...init, headers: { ...(init && init.headers), ...authHeader, ...extra } });
  const open = (extra) => new Promise((resolve, reject) => {
    const got = [];
    const es = new EventSource(URL_ + "/v1/alerts/stream", { fetch: fetchWith(extra) });
    const on = (ev) => got.push({ id: ev.lastEventId, type: ev.type, data: JSON.parse(ev.data) });
    for (const t of ["sla_warning", "sla_breach", "sla_escalation", "capacity_forecast"]) es.addEventListener(t, on);
    es.onopen = () => resolve({ es, got });
    es.onerror = (e) => { if (es.readyState === EventSource.CLOSED) reject(e); };
  });
  const logIds = (after) => {
    const out = rawRedis("XRANGE", P + "alerts:log", after ? "(" + after : "-", "+");
    return out.split("\n").filter((l) => /^\d+-\d+$/.test(l));
  };
  const once = (got, what) => {
    const ids = got.map((g) => g.id);
    if (new Set(ids).size !== ids.length) fail(what + ": an alert came twice: " + ids.join(" "));
  };

  const a = await open({});
  pushLead("sse-1", 20);
  pushLead("sse-2", 500);
  // Each lead fires a warning and a breach.
  await until("client A gets 4 alerts", 8000, () => a.got.length >= 4);
  once(a.got, "client A");
  const want = logIds(null);
  if (a.got.map((g) => g.id).join() !== want.join()) fail("client A got " + a.got.map((g) => g.id) + ", the log holds " + want);
  for (const g of a.got) if (g.type !== g.data.type) fail("event " + g.type + " carries a " + g.data.type);
  ok("client A got every alert once, in order (" + a.got.length + ")");
  const last = a.got[a.got.length - 1].id;
  a.es.close();

  pushLead("sse-3", 20);
  await until("2 alerts while no client listens", 8000, () => logIds(last).length >= 2);
  const b = await open({ "Last-Event-ID": last });
  await until("client B catches up", 3000, () => b.got.length >= 2);
  if (b.got.map((g) => g.id).join() !== logIds(last).join()) fail("client B resumed with " + b.got.map((g) => g.id) + ", missed " + logIds(last));
  ok("Last-Event-ID resumed with exactly what was missed (" + b.got.length + ")");

  // Redis restarts under the stream.
  writeFileSync(join(process.env.LR_SYNC, "restart"), "");
  await until("the test restarts redis", 15000, () => existsSync(join(process.env.LR_SYNC, "restarted")));
  const before = b.got.length;
  await until("the daemon is back", 15000, async () => {
    try { return (await fetch(URL_ + "/v1/status", { headers: authHeader })).ok; } catch (e) { return false; }
  });
  pushLead("sse-4", 500);
  await until("client B gets the alerts after the restart", 12000, () => b.got.length >= before + 2);
  once(b.got, "client B");
  const all = logIds(last);
  if (b.got.map((g) => g.id).join() !== all.join()) fail("client B got " + b.got.map((g) => g.id) + ", the log after " + last + " holds " + all);
  ok("the stream survived a Redis restart: every alert once (" + b.got.length + ")");
  b.es.close();
}

const mode = process.argv[2];
if (mode === "page") await page();
else if (mode === "sse") await sse();
else if (mode === "load") await load();
else fail("usage: web.mjs page|sse|load");
process.exit(0);
