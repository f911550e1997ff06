"""Drives headless Chromium through the todo example, for scripts/screenshot-todo.sh.

    python3 scripts/todo-browser.py BASE_URL SCREENSHOT.png PROFILE_DIR

With the application serving BASE_URL (and holding a few todos), it

1. opens /todos?page=1, checks that the stylesheet applied and that the browser
   reported no Content-Security-Policy violation, and saves SCREENSHOT.png;
2. types a title into the page's form and submits it: the browser's own same-origin
   POST (Sec-Fetch-Site: same-origin) must be answered with a 303 and the new todo
   shown with its flash message (saved as SCREENSHOT-form.png);
3. submits a form on a page of another site (a data: URL) to the application: that
   POST (Sec-Fetch-Site: cross-site, Origin: null) must be refused with a 403, and the
   todo it carries must not be in the database.

Chromium is driven through the DevTools protocol over a pipe (--remote-debugging-pipe):
standard library only, nothing to install but Debian's chromium. Exits non-zero, saying
what failed, if any check fails.
"""

import base64
import json
import os
import select
import subprocess
import sys
import time
import urllib.parse
import urllib.request

TIMEOUT = 30.0


class Browser:
    """Chromium with one page, and the DevTools messages to and from it."""

    def __init__(self, profile):
        to_browser, self.commands = os.pipe()
        self.replies, from_browser = os.pipe()

        def give_pipes():  # the protocol's fixed descriptors: 3 reads, 4 writes
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=give_pipes,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self.buffer = b""
        self.events = []
        self.next_id = 0
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call(
            "Target.attachToTarget", targetId=target, flatten=True
        )["sessionId"]
        for domain in ("Page", "Network", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=900, height=1400, deviceScaleFactor=1, mobile=False,
        )

    def close(self):
        self.process.kill()
        self.process.wait()

    def _message(self, deadline):
        """The next message from the browser."""
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, **params):
        """Sends a command to the page (to the browser before one is attached) and
        returns its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        command = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            command["sessionId"] = self.session
        os.write(self.commands, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._message(deadline)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, method):
        """Waits for the next event `method`, kept or still to come."""
        deadline = time.monotonic() + TIMEOUT
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method:
                    return event["params"]
            seen = len(self.events)
            self.events.append(self._message(deadline))

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def load(self, action):
        """Runs `action` (a navigation or a form submission) and waits until the page
        it leads to has loaded; returns the POSTs it sent, each as (status, request
        headers)."""
        self.events.clear()
        action()
        self.wait_for("Page.loadEventFired")
        posts = {
            e["params"]["requestId"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
            and e["params"]["request"]["method"] == "POST"
        }
        # Per request, the first hop's headers as sent and status as received.
        sent, status = {}, {}
        for e in self.events:
            params = e.get("params", {})
            if params.get("requestId") not in posts:
                continue
            if e["method"] == "Network.requestWillBeSentExtraInfo":
                sent.setdefault(params["requestId"], params["headers"])
            elif e["method"] == "Network.responseReceivedExtraInfo":
                status.setdefault(params["requestId"], params["statusCode"])
        return [(status.get(r), {k.lower(): v for k, v in sent.get(r, {}).items()})
                for r in posts]

    def csp_violations(self):
        return [
            e["params"]["entry"]["text"]
            for e in self.events
            if e.get("method") == "Log.entryAdded"
            and "Content Security Policy" in e["params"]["entry"]["text"]
        ]

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def check(condition, what):
    if not condition:
        sys.exit(f"browser check failed: {what}")
    print(f"ok: {what}")


def the_post(posts, what):
    check(len(posts) == 1, f"{what}: the browser sent one POST ({len(posts)})")
    status, headers = posts[0]
    print(
        f"    Sec-Fetch-Site: {headers.get('sec-fetch-site')}, "
        f"Origin: {headers.get('origin')} -> {status}"
    )
    return status, headers


def main():
    base, out, profile = sys.argv[1:]
    browser = Browser(profile)
    try:
        browser.load(lambda: browser.call("Page.navigate", url=f"{base}/todos?page=1"))
        header = browser.evaluate(
            "getComputedStyle(document.querySelector('header')).backgroundColor"
        )
        check(header == "rgb(31, 41, 51)", f"the stylesheet applies (header: {header})")
        check(not browser.csp_violations(), f"no CSP violation {browser.csp_violations()}")
        browser.screenshot(out)

        posts = browser.load(lambda: browser.evaluate(
            "(() => { const form = document.querySelector('form.add');"
            "form.querySelector('input[name=title]').value = 'Added in Chromium';"
            "form.requestSubmit(); })()"
        ))
        status, headers = the_post(posts, "the page's own form")
        check(
            headers.get("sec-fetch-site") == "same-origin" and status == 303,
            "a same-origin form POST is accepted (303)",
        )
        text = browser.evaluate("document.body.innerText")
        check(
            "Added “Added in Chromium”." in text and browser.evaluate("location.pathname")
            == "/todos",
            "back on /todos, with the new todo and its flash message",
        )
        check(not browser.csp_violations(), f"no CSP violation {browser.csp_violations()}")
        browser.screenshot(out.removesuffix(".png") + "-form.png")

        forged = (
            f'<form method="post" action="{base}/todos">'
            '<input name="title" value="Forged in Chromium"></form>'
        )
        browser.load(lambda: browser.call(
            "Page.navigate", url="data:text/html," + urllib.parse.quote(forged)
        ))
        posts = browser.load(lambda: browser.evaluate("document.forms[0].submit()"))
        status, headers = the_post(posts, "another site's form")
        check(
            headers.get("sec-fetch-site") == "cross-site" and status == 403,
            "a cross-site form POST is refused (403)",
        )
        text = browser.evaluate("document.body.innerText")
        check("Sec-Fetch-Site: cross-site" in text, f"the 403 says why: {text.strip()}")
        with urllib.request.urlopen(f"{base}/api/todos?per_page=100") as response:
            titles = [t["title"] for t in json.load(response)["items"]]
        check(
            "Added in Chromium" in titles and "Forged in Chromium" not in titles,
            "the database has the same-origin todo and not the forged one",
        )
    finally:
        browser.close()


if __name__ == "__main__":
    main()
