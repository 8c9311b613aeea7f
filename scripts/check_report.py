#!/usr/bin/env python3
"""Open a motiftool report.html in headless Chromium and check that it renders.

Talks to Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe,
standard library only). Prints a JSON object: rows rendered (`tr.filter`),
logos drawn, the page's console errors and uncaught exceptions, failed loads,
and where the screenshot went. Exit code 0 when the page loaded, has the
expected number of rows (if given), every logo image decoded, and nothing was
logged at error level; 1 otherwise; 2 when Chromium cannot be started.

    scripts/check_report.py run/report.html [--rows 16] [--screenshot shot.png]
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


class Browser:
    def __init__(self, exe, profile):
        r_cmd, w_cmd = os.pipe()  # we write commands -> chromium reads fd 3
        r_ev, w_ev = os.pipe()  # chromium writes fd 4 -> we read

        def child_fds():
            # dup the ends to 3 and 4 via free numbers first, in case they are already 3 or 4
            a, b = os.dup(r_cmd), os.dup(w_ev)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=child_fds,
            pass_fds=(3, 4),  # kept open when the child closes the rest

        )
        os.close(r_cmd)
        os.close(w_ev)
        self.out = os.fdopen(w_cmd, "wb", buffering=0)
        self.inp = os.fdopen(r_ev, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = self.inp.read(65536)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"Chromium closed the pipe: {err}")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, timeout=30, **params):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.out.write(json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, timeout=30):
        deadline = time.time() + timeout
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


PROBE = """(() => {
  const imgs = [...document.querySelectorAll('img')];
  return JSON.stringify({
    rows: document.querySelectorAll('tr.filter').length,
    logos: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 60)),
    svgs: document.querySelectorAll('svg').length,
    title: document.title,
    height: document.documentElement.scrollHeight,
  });
})()"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report")
    ap.add_argument("--rows", type=int, help="expected number of filter rows")
    ap.add_argument("--screenshot", help="PNG to write (the first screen, 1280 wide)")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    ap.add_argument("--before-shot", metavar="JS",
                    help="script run after the probe and before the screenshot, e.g. "
                         "\"document.getElementById('rc').click()\"; its value is reported as `before_shot`")
    a = ap.parse_args()

    exe = shutil.which(a.chromium)
    if not exe:
        print(f"check_report: `{a.chromium}` not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    url = "file://" + os.path.abspath(a.report)
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(exe, profile)
        try:
            target = b.call("Target.createTarget", url="about:blank")["targetId"]
            sid = b.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                b.call(f"{domain}.enable", session=sid)
            b.call("Emulation.setDeviceMetricsOverride", session=sid, width=1280, height=1000,
                   deviceScaleFactor=1, mobile=False)
            b.call("Page.navigate", session=sid, url=url)
            b.wait_event("Page.loadEventFired")
            time.sleep(0.3)  # let late console messages arrive
            probe = json.loads(b.call("Runtime.evaluate", session=sid, expression=PROBE,
                                      returnByValue=True)["result"]["value"])
            if a.before_shot:
                r = b.call("Runtime.evaluate", session=sid, expression=a.before_shot,
                           returnByValue=True)["result"]
                probe["before_shot"] = r.get("value")
                time.sleep(0.2)
            if a.screenshot:
                shot = b.call("Page.captureScreenshot", session=sid, format="png")["data"]
                with open(a.screenshot, "wb") as f:
                    f.write(base64.b64decode(shot))
            # drain what is buffered
            b.call("Runtime.evaluate", session=sid, expression="1")
        finally:
            b.close()

    errors, failed = [], []
    for m in b.events:
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(x.get("value", x.get("description", ""))) for x in p.get("args", [])))
        elif meth == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
        elif meth == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append(p["entry"].get("text", ""))
        elif meth == "Network.loadingFailed":
            failed.append(p.get("errorText", "failed load"))

    result = {**probe, "console_errors": errors, "failed_loads": failed, "screenshot": a.screenshot}
    print(json.dumps(result, indent=1))
    ok = not errors and not failed and not probe["broken"]
    if a.rows is not None and probe["rows"] != a.rows:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
