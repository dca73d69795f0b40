"""A real headless browser for the tests, and loopback listeners to catch
where it is sent (docs/browser-tests.md).

`Browser` runs tests/js/browser-driver.mjs: playwright-core driving
Debian's chromium, one command at a time over JSON lines. A test reads like
what a person does:

    def test_sign_in(browser):
        browser.goto(url)
        browser.fill("Username", "alice")
        browser.fill("Password", "pw")
        browser.click("Sign in")
        browser.screenshot("after-sign-in")
        assert browser.text("#access-key-id").startswith("ASIA")

Targets: a string that starts like a selector (`#id`, `.class`, `[attr]`,
`//xpath`, `css=`/`text=`/... engines) is a Playwright selector; anything
else is what a person reads — for fill/value a field's label, placeholder
or name; for click/check a button's, link's, radio's or checkbox's name,
then a label, then exact text; for text/attr/wait_for exact text or a label.
A plain tag or CSS selector ("h1", "table tr") is tried last. Each waits
up to the timeout for a visible match.

Screenshots go to `$STSD_SCREENSHOTS/<test>/` (default:
tests/python/.screenshots/<test>/, git-ignored; <test> is the pytest node
id with every run of other characters than [A-Za-z0-9._-] made one "-",
e.g. test_browser_harness.py-test_oidc_login), numbered in order
(`01-idp-login.png`); a failed command saves `NN-error-<command>.png` and
its path is in the AssertionError. The directory is emptied when the
`browser` fixture starts.

HTTPS: the browser trusts a server's certificate only when the test passes
it (`trust=[pem paths]`: the SHA-256 of each certificate's public key goes
to chromium's --ignore-certificate-errors-spki-list), so a page served with
any other certificate still fails; `ignore_https_errors=True` trusts all.

Every process started here is bounded in time and stopped by PID.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

JS_DIR = Path(__file__).resolve().parent.parent / "js"
DRIVER = JS_DIR / "browser-driver.mjs"
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("STSD_SCREENSHOTS") or Path(__file__).resolve().parent / ".screenshots")
# One command's deadline in the browser, and the answer's in Python.
TIMEOUT_MS = 15000
LIFETIME_SECS = 170


class BrowserError(AssertionError):
    """A browser command failed; `screenshot` is the page when it did."""

    def __init__(self, message: str, url: str | None = None, screenshot: str | None = None):
        super().__init__(f"{message}\n  page: {url}\n  screenshot: {screenshot}")
        self.url, self.screenshot = url, screenshot


def spki_hashes(pem_paths: Iterable[Path | str]) -> list[str]:
    """base64(SHA-256(SubjectPublicKeyInfo)) of every certificate in the
    PEM files, as chromium's --ignore-certificate-errors-spki-list wants."""
    out = []
    for p in pem_paths:
        for cert in x509.load_pem_x509_certificates(Path(p).read_bytes()):
            spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            out.append(base64.b64encode(hashlib.sha256(spki).digest()).decode())
    return out


def screenshot_dir(name: str) -> Path:
    """Where a test called `name` keeps its screenshots (emptied)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    d = SCREENSHOTS / safe
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


class Browser:
    """One headless chromium (a fresh profile) behind tests/js/browser-driver.mjs.

    `Browser(screenshots_dir, trust=[pem...], ignore_https_errors=False,
    timeout_ms=15000, lifetime_secs=170)`; a context manager that closes it.
    """

    def __init__(
        self,
        screenshots: Path | str,
        trust: Iterable[Path | str] = (),
        ignore_https_errors: bool = False,
        timeout_ms: int = TIMEOUT_MS,
        lifetime_secs: int = LIFETIME_SECS,
    ):
        if shutil.which("node") is None or not (JS_DIR / "node_modules" / "playwright-core").is_dir():
            pytest.fail("node or tests/js/node_modules/playwright-core is missing: run `make deps`", pytrace=False)
        if not os.access(CHROMIUM, os.X_OK):
            pytest.fail(f"{CHROMIUM} is missing: run `make deps` (scripts/install-test-deps.sh)", pytrace=False)
        self.screenshots = Path(screenshots)
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout_ms / 1000
        self._tmp = tempfile.TemporaryDirectory(prefix="stsd-browser-")
        cfg = Path(self._tmp.name) / "driver.json"
        cfg.write_text(json.dumps({
            "executable": CHROMIUM, "screenshots": str(self.screenshots), "spki": spki_hashes(trust),
            "ignoreHTTPSErrors": ignore_https_errors, "timeoutMs": timeout_ms, "lifetimeSecs": lifetime_secs,
        }))
        self._stderr = open(Path(self._tmp.name) / "stderr.log", "w+")
        self.proc = subprocess.Popen(
            ["node", str(DRIVER), str(cfg)], cwd=JS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, text=True, bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._ids = 0
        first = self._next_line(60)
        if not first or "ready" not in json.loads(first):
            self.close()
            raise AssertionError(f"the browser did not start: {first!r}\n{self.logs()}")
        self.version = json.loads(first)["ready"]

    # --- plumbing -------------------------------------------------------------

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next_line(self, timeout: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the browser did not answer in {timeout}s\n{self.logs()}") from None

    def logs(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-4000:]

    def _call(self, cmd: str, _wait: float | None = None, **args):
        if self.proc.poll() is not None:
            raise AssertionError(f"the browser has exited ({self.proc.returncode})\n{self.logs()}")
        self._ids += 1
        self.proc.stdin.write(json.dumps({"id": self._ids, "cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self._next_line((_wait or self.timeout) + 15)
            if line is None:
                raise AssertionError(f"the browser exited during {cmd}\n{self.logs()}")
            answer = json.loads(line)
            if answer.get("id") == self._ids:
                break
        if not answer["ok"]:
            raise BrowserError(f"browser {cmd} {args}: {answer['error']}", answer.get("url"), answer.get("screenshot"))
        return answer["result"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"id": 0, "cmd": "close"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(10)
        self._stderr.close()
        self._tmp.cleanup()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc):
        self.close()

    # --- what a person does -----------------------------------------------------

    def goto(self, url: str) -> int | None:
        """Opens `url` and waits for the page to load; the HTTP status."""
        return self._call("goto", url=url)["status"]

    def set_content(self, html_text: str) -> str:
        """Loads `html_text` as the page (e.g. an SP's auto-submitting
        HTTP-POST form) and waits for it, and for any navigation it starts,
        to load; the URL after."""
        return self._call("set_content", html=html_text)["url"]

    def fill(self, target: str, value: str) -> None:
        """Types `value` into the field labelled `target` (or selector)."""
        self._call("fill", target=target, value=value)

    def click(self, target: str) -> str:
        """Clicks the button/link/radio named `target` (or selector), waits
        for any navigation it starts to load; the URL after."""
        return self._call("click", target=target)["url"]

    def press(self, target: str, key: str) -> str:
        """Presses `key` (e.g. "Enter") in the field `target`; the URL after."""
        return self._call("press", target=target, key=key)["url"]

    def check(self, target: str) -> None:
        """Checks the radio button or checkbox `target`."""
        self._call("check", target=target)

    def select(self, target: str, value: str) -> list[str]:
        """Chooses the option of <select> `target` whose value, else whose
        label, is `value`; the values selected."""
        return self._call("select", target=target, value=value)

    def wait_for(self, target: str, timeout: float | None = None) -> None:
        """Waits until text/label/selector `target` is visible."""
        t = timeout or self.timeout
        self._call("wait_for", _wait=t, target=target, timeout=int(t * 1000))

    def wait_for_url(self, pattern: str | re.Pattern, timeout: float | None = None) -> str:
        """Waits until the page's URL matches `pattern` (a glob such as
        "http://127.0.0.1:*/callback?*", or a compiled regex) and it has
        loaded; the URL."""
        matcher = {"regex": pattern.pattern} if isinstance(pattern, re.Pattern) else {"glob": pattern}
        t = timeout or self.timeout
        return self._call("wait_for_url", _wait=t, matcher=matcher, timeout=int(t * 1000))["url"]

    # --- what a person reads ------------------------------------------------------

    def text(self, target: str) -> str:
        """The visible text of the first visible match of `target`."""
        return self._call("text", target=target)

    def texts(self, selector: str) -> list[str]:
        """The texts of every match of the Playwright `selector` (no waiting)."""
        return self._call("texts", target=selector)

    def value(self, target: str) -> str:
        """The current value of the field `target`."""
        return self._call("value", target=target)

    def attr(self, target: str, name: str) -> str | None:
        return self._call("attr", target=target, name=name)

    def count(self, selector: str) -> int:
        """How many elements match `selector` now (no waiting)."""
        return self._call("count", target=selector)

    @property
    def url(self) -> str:
        return self._call("url")

    @property
    def title(self) -> str:
        return self._call("title")

    def content(self) -> str:
        """The page's HTML."""
        return self._call("content")

    def body_text(self) -> str:
        """Everything a person can read on the page."""
        return self._call("body_text")

    def screenshot(self, name: str) -> Path:
        """Saves the whole page as `NN-<name>.png`; its path. Fails unless
        the file is a non-empty PNG."""
        path = Path(self._call("screenshot", name=name))
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000, f"{path} is not a PNG of a page"
        return path

    def eval(self, expression: str):
        """Evaluates JavaScript in the page; its JSON value."""
        return self._call("eval", expression=expression)

    def cookies(self) -> list[dict]:
        return self._call("cookies")

    def reset(self) -> None:
        """A new browser context: no cookies, no storage (a new person)."""
        self._call("reset")


@pytest.fixture
def browser(request):
    """A Browser whose screenshots go to the test's own directory; trusts no
    HTTPS server (use `Browser(screenshot_dir(...), trust=[...])` for that,
    or the `browser_for` fixture)."""
    with Browser(screenshot_dir(request.node.nodeid)) as b:
        yield b


@pytest.fixture
def browser_for(request):
    """A factory: `browser_for(trust=[pem...], ignore_https_errors=False)`
    opens a Browser for this test (closed at teardown); a second call
    opens a second browser with its own screenshots subdirectory."""
    opened: list[Browser] = []
    base = screenshot_dir(request.node.nodeid)

    def open_(**kw) -> Browser:
        d = base if not opened else base / f"browser-{len(opened) + 1}"
        b = Browser(d, **kw)
        opened.append(b)
        return b

    yield open_
    for b in opened:
        b.close()


# --- where the browser is sent -----------------------------------------------------

class Request:
    """One request a Listener received: method, path, query and form (each a
    dict of first values), raw body and headers."""

    def __init__(self, method: str, target: str, headers: dict, body: bytes):
        parts = urllib.parse.urlsplit(target)
        self.method, self.path, self.headers, self.body = method, parts.path, headers, body
        self.query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        ctype = headers.get("content-type", "")
        self.form = (
            dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
            if ctype.startswith("application/x-www-form-urlencoded")
            else {}
        )

    def __repr__(self):
        return f"<{self.method} {self.path} query={self.query} form_keys={list(self.form)}>"


class Listener:
    """An HTTP server on 127.0.0.1 that records every request and answers
    each with a small HTML page: what a loopback redirect or form POST
    lands on (an OAuth client's /callback, a SAML SP's ACS).

        with Listener() as rp:
            url = rp.url("/callback")
            ...
            req = rp.wait("/callback")      # a Request
    """

    def __init__(self, page: str = "Received. You can close this window."):
        self.requests: queue.Queue[Request] = queue.Queue()
        self.seen: list[Request] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                req = Request(self.command, self.path, headers, body)
                listener.requests.put(req)
                text = (
                    f"<!doctype html><html><head><title>Loopback listener</title></head><body>"
                    f"<h1>{html.escape(page)}</h1><p id='method'>{req.method}</p><p id='path'>{html.escape(req.path)}</p>"
                    f"</body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            do_GET = do_POST = _handle

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return self.base + path

    def wait(self, path: str | None = None, timeout: float = 30) -> Request:
        """The next request (to `path`, skipping others such as /favicon.ico)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no request to {path or 'any path'} on {self.base} in {timeout}s; saw {self.seen}")
            try:
                req = self.requests.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(req)
            if path is None or req.path == path:
                return req

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc):
        self.close()


def query_of(url: str) -> dict:
    """The first value of each query parameter of `url`."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


# --- a CLI that sends a person to the browser (`stsd login`) -----------------------

class OutputWatcher:
    """Collects the lines of a process's text stream in the background, so
    a test can wait for one (e.g. the sign-in URL `stsd login` prints) and
    read the rest later:

        proc = subprocess.Popen([...], stderr=subprocess.PIPE, text=True)
        err = OutputWatcher(proc.stderr)
        url = err.wait(r"https?://127\\.0\\.0\\.1:\\d+/\\S+").group(0)
    """

    def __init__(self, stream):
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._closed = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, pattern: str, timeout: float = 30) -> re.Match:
        """The first match of the regex `pattern` in a line (read so far or
        to come); fails at the stream's end or after `timeout`."""
        rx = re.compile(pattern)

        def found():
            return next((m for m in map(rx.search, self.lines) if m), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None or self._closed, timeout)
            m = found()
        if m is None:
            raise AssertionError(f"no line matching {pattern!r} in {timeout}s:\n" + self.text())
        return m

    def text(self) -> str:
        with self._cond:
            return "\n".join(self.lines)


def url_opener(dir: Path) -> tuple[Path, Path]:
    """A stand-in for the desktop's browser opener: (an executable that
    appends its first argument to a file, that file). Give the executable to
    a CLI as $BROWSER (or its opener setting) and read the URL it was asked
    to open from the file, then drive `Browser.goto` with it."""
    script, urls = Path(dir) / "open-url", Path(dir) / "opened-urls.txt"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{urls}'\n")
    script.chmod(0o755)
    return script, urls


def opened_url(urls: Path, timeout: float = 30) -> str:
    """The first URL `url_opener`'s executable was given, waiting for it."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if urls.exists() and urls.read_text().strip():
            return urls.read_text().splitlines()[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing was opened in {timeout}s ({urls})")
