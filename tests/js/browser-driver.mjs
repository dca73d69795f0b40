// A headless browser driven by JSON lines on stdin, for the browser tests
// (tests/python/browser.py is its only client; docs/browser-tests.md).
//
//   node browser-driver.mjs CONFIG.json
//
// CONFIG: {"executable": "/usr/bin/chromium", "screenshots": "DIR",
//          "spki": ["base64 SHA-256 of a server key to trust", ...],
//          "ignoreHTTPSErrors": false, "timeoutMs": 15000,
//          "lifetimeSecs": 170}
//
// playwright-core launches Debian's chromium (never a browser of its own)
// with a fresh profile that it deletes at exit, and the flags that work on
// these machines. HTTPS servers are trusted only by their keys' hashes
// (--ignore-certificate-errors-spki-list, which chromium honours only with
// a --user-data-dir, as Playwright passes), unless ignoreHTTPSErrors.
//
// Each request is one line {"id": N, "cmd": "...", ...}; each answer is one
// line {"id": N, "ok": true, "result": ...} or {"id": N, "ok": false,
// "error": "...", "screenshot": "PATH"} (a failed command saves a
// screenshot). Prints "READY <chromium version>" first. Exits after
// lifetimeSecs, on stdin's end, on "close", or on SIGTERM, closing
// chromium.

import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { chromium } from "playwright-core";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const TIMEOUT = config.timeoutMs ?? 15000;
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const args = [...FLAGS];
if (config.spki?.length) args.push(`--ignore-certificate-errors-spki-list=${config.spki.join(",")}`);
const browser = await chromium.launch({
  executablePath: config.executable ?? "/usr/bin/chromium",
  headless: true,
  args,
  timeout: 60000,
});

let context;
let page;
async function freshContext() {
  if (context) await context.close();
  context = await browser.newContext({
    ignoreHTTPSErrors: Boolean(config.ignoreHTTPSErrors),
    viewport: { width: 1024, height: 768 },
    locale: "en-US",
  });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  page = await context.newPage();
}
await freshContext();

fs.mkdirSync(config.screenshots, { recursive: true });
let shots = 0;
async function screenshot(name) {
  shots += 1;
  const safe = String(name).replace(/[^A-Za-z0-9._-]+/g, "-");
  const file = path.join(config.screenshots, `${String(shots).padStart(2, "0")}-${safe}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// A target is a Playwright selector when it looks like one (#id, .class,
// [attr], //xpath, engine=...); otherwise it is what a person reads: a
// label, a button's or link's name, a placeholder, a field's name, text.
const SELECTOR = /^(#|\.|\[|\/\/|\(|[a-z_-]+=)/;
function candidates(target, kind) {
  if (SELECTOR.test(target)) return [page.locator(target)];
  const exact = { exact: true };
  const roles = (...names) => names.map((r) => page.getByRole(r, { name: target, exact: true }));
  const byKind = {
    field: () => [page.getByLabel(target, exact), page.getByPlaceholder(target, exact), page.locator(`[name="${target}"]`)],
    click: () => [
      ...roles("button", "link", "radio", "checkbox", "option", "menuitem", "tab"),
      page.getByLabel(target, exact),
      page.getByText(target, exact),
    ],
    select: () => [page.getByLabel(target, exact), page.locator(`select[name="${target}"]`)],
    any: () => [page.getByText(target, exact), page.getByLabel(target, exact)],
  };
  // Anything else is tried as a CSS selector last (e.g. "input", "h1").
  return [...byKind[kind](), page.locator(target)];
}

// The first candidate that matches a visible element, waiting up to the
// timeout for one to appear.
async function resolve(target, kind, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const c of candidates(target, kind)) {
      try {
        const n = await c.count();
        for (let i = 0; i < n; i += 1) {
          if (await c.nth(i).isVisible()) return c.nth(i);
        }
      } catch {
        // Not a valid selector for this engine: try the next one.
      }
    }
    if (Date.now() > deadline) throw new Error(`no visible element for ${JSON.stringify(target)} (${kind}) on ${page.url()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function urlMatcher(m) {
  if (m.regex) return new RegExp(m.regex);
  return m.glob;
}

// After an action that may navigate, wait until the new page has loaded.
async function settle() {
  await page.waitForLoadState("load");
}

const commands = {
  async goto({ url }) {
    const r = await page.goto(url, { waitUntil: "load" });
    return { url: page.url(), status: r ? r.status() : null };
  },
  async fill({ target, value }) {
    await (await resolve(target, "field")).fill(String(value));
    return null;
  },
  async click({ target }) {
    await (await resolve(target, "click")).click();
    await settle();
    return { url: page.url() };
  },
  async press({ target, key }) {
    await (await resolve(target, "field")).press(key);
    await settle();
    return { url: page.url() };
  },
  async check({ target }) {
    await (await resolve(target, "click")).check();
    return null;
  },
  async select({ target, value }) {
    const el = await resolve(target, "select");
    let chosen = await el.selectOption({ value: String(value) }, { timeout: 1000 }).catch(() => null);
    if (!chosen) chosen = await el.selectOption({ label: String(value) });
    return chosen;
  },
  async wait_for({ target, timeout }) {
    await resolve(target, "any", timeout ?? TIMEOUT);
    return null;
  },
  async wait_for_url({ matcher, timeout }) {
    await page.waitForURL(urlMatcher(matcher), { timeout: timeout ?? TIMEOUT, waitUntil: "load" });
    return { url: page.url() };
  },
  async text({ target }) {
    return (await resolve(target, "any")).innerText();
  },
  async texts({ target }) {
    return page.locator(target).allInnerTexts();
  },
  async value({ target }) {
    return (await resolve(target, "field")).inputValue();
  },
  async attr({ target, name }) {
    return (await resolve(target, "any")).getAttribute(name);
  },
  async count({ target }) {
    return page.locator(target).count();
  },
  async set_content({ html }) {
    await page.setContent(html, { waitUntil: "load" });
    return { url: page.url() };
  },
  async url() {
    return page.url();
  },
  async title() {
    return page.title();
  },
  async content() {
    return page.content();
  },
  async body_text() {
    return page.locator("body").innerText();
  },
  async screenshot({ name }) {
    return screenshot(name);
  },
  async eval({ expression }) {
    return page.evaluate(expression);
  },
  async cookies() {
    return context.cookies();
  },
  async reset() {
    await freshContext();
    return null;
  },
  async version() {
    return browser.version();
  },
};

let closing = false;
async function stop(code = 0) {
  if (closing) return;
  closing = true;
  await browser.close().catch(() => {});
  process.exit(code);
}
setTimeout(() => stop(0), (config.lifetimeSecs ?? 170) * 1000).unref();
process.on("SIGTERM", () => stop(0));

const send = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
send({ ready: browser.version() });

// Commands run one at a time, in order.
let queue = Promise.resolve();
const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let req;
    try {
      req = JSON.parse(line);
    } catch {
      send({ id: null, ok: false, error: `not JSON: ${line}` });
      return;
    }
    if (req.cmd === "close") {
      send({ id: req.id, ok: true, result: null });
      await stop(0);
      return;
    }
    const fn = commands[req.cmd];
    if (!fn) {
      send({ id: req.id, ok: false, error: `unknown command ${req.cmd}` });
      return;
    }
    try {
      send({ id: req.id, ok: true, result: (await fn(req)) ?? null });
    } catch (e) {
      const shot = await screenshot(`error-${req.cmd}`).catch(() => null);
      send({ id: req.id, ok: false, error: String(e.message ?? e).split("\n").slice(0, 6).join("\n"), url: page.url(), screenshot: shot });
    }
  });
});
lines.on("close", () => queue.then(() => stop(0)));
