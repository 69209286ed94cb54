"""The HTML page in a real browser: headless Chromium, driven through the DevTools protocol over a
pipe (`--remote-debugging-pipe`), so the test needs no Python dependency and no chromedriver.

It opens the page for fixtures/tvm_like, checks that it renders with no console error and no
network request, clicks a node with real mouse events and reads the import sites the panel shows;
then, in the same browser, the page for fixtures/tvm_ffi: coupling sites and their kind filters.
Skipped, with the reason, where no Chromium is installed (`.ci/run` installs Debian's `chromium`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import FIXTURES

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (Debian: apt-get install chromium)"
)
# Without the background-networking flags Chromium phones home, which a closed network punishes.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--window-size=1400,900", "--remote-debugging-pipe",
]


class Browser:
    """Just enough of the DevTools protocol: commands, and the events seen while waiting."""

    def __init__(self, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds():  # Chromium reads commands on fd 3 and writes replies on fd 4
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, close_fds=False,  # noqa: PLW1509  (pytest runs this test in one thread)
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def send(self, method: str, timeout: float = 20.0, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if self.session is not None and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 20.0) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, x: float, y: float) -> None:
        """A real click: the mouse moves there, presses and releases (pointer events fire)."""
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The fixture's graph page, loaded in Chromium: (browser, page URL)."""
    from scopeguard.cli import main

    out = tmp_path_factory.mktemp("html")
    html = out / "graph.html"
    assert main(["graph", str(FIXTURES / "tvm_like"), "--no-cache", "-o", str(html)]) == 0
    browser = Browser(out / "profile")
    try:
        target = next(t for t in browser.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        browser.session = browser.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable")
        browser.send("Page.navigate", url=html.as_uri())
        browser.wait_for("Page.loadEventFired")
        yield browser, html.as_uri()
    finally:
        browser.close()


def _errors(events: list[dict]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(json.dumps(params["exceptionDetails"])[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(json.dumps(params.get("args"))[:300])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(params["entry"]["text"])
    return found


def test_page_renders_the_graph_without_errors_or_requests(page):
    browser, url = page
    counts = browser.evaluate(
        "JSON.stringify({nodes: document.querySelectorAll('.node').length,"
        " edges: document.querySelectorAll('.edge').length,"
        " clusters: Array.from(document.querySelectorAll('.cluster')).map(c => c.dataset.scope),"
        " width: document.querySelector('#canvas > svg').getBoundingClientRect().width})"
    )
    counts = json.loads(counts)
    assert counts["nodes"] == 26 and counts["edges"] == 39
    assert counts["clusters"] == ["tvm.relax", "tvm.contrib.msc"]
    assert counts["width"] > 500  # laid out, not collapsed to nothing
    assert _errors(browser.events) == []
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert requests == [url]  # the page itself, and nothing else


def test_clicking_a_node_shows_its_import_sites_and_violations(page):
    browser, _ = page
    rect = json.loads(browser.evaluate(
        "JSON.stringify(document.querySelector('.node[data-id=\"tvm.driver.build\"] rect').getBoundingClientRect())"
    ))
    browser.click(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    details = browser.evaluate("document.getElementById('details').innerText")
    assert details.splitlines()[0] == "tvm.driver.build"
    assert "python/tvm/driver/build.py:21:29 tvm.driver.build → tvm.contrib.msc SG201" in details
    assert "python/tvm/driver/build.py:18:33 tvm.driver.build → tvm.contrib.msc.core SG403" in details
    assert "violations (5)" in details.lower()  # headings are upper-cased by CSS
    assert browser.evaluate("document.querySelector('.node.selected').dataset.id") == "tvm.driver.build"
    # The edges of other nodes fade out; this node's stay lit.
    lit = browser.evaluate("Array.from(document.querySelectorAll('.edge.lit')).map(e => e.dataset.index).length")
    assert lit == 7  # all outgoing (nothing imports tvm.driver.build): msc x2 kinds, msc.core x3, relax, support
    assert _errors(browser.events) == []


def test_search_and_kind_filter(page):
    browser, _ = page
    browser.send("Runtime.evaluate", expression=(
        "const s = document.getElementById('search'); s.value = 'cutlass';"
        " s.dispatchEvent(new Event('input'));"
    ))
    matches = browser.evaluate("Array.from(document.querySelectorAll('.node.match')).map(n => n.dataset.id).join(',')")
    assert matches == "tvm.contrib.cutlass,tvm.contrib.cutlass.build"
    browser.evaluate("document.querySelector('#kinds input[data-kind=import]').click()")
    hidden = browser.evaluate("Array.from(document.querySelectorAll('.edge.hidden')).map(e => e.dataset.kind)")
    assert hidden and set(hidden) == {"import"}
    shown = browser.evaluate("document.querySelectorAll('.edge:not(.hidden)').length")
    assert shown == 39 - len(hidden)
    assert _errors(browser.events) == []


def test_coupling_sites_and_their_filter(page, tmp_path):
    """fixtures/tvm_ffi in the same browser: a node's registry lookups show path:line:col with the
    name looked up, and the coupling kinds have filter checkboxes of their own."""
    from scopeguard.cli import main

    browser, _ = page
    html = tmp_path / "ffi.html"
    assert main(["graph", str(FIXTURES / "tvm_ffi"), "--no-cache", "-o", str(html)]) == 0
    browser.events.clear()  # the first page's events are checked by the tests above
    browser.send("Page.navigate", url=html.as_uri())
    browser.wait_for("Page.loadEventFired")
    rect = json.loads(browser.evaluate(
        "JSON.stringify(document.querySelector('.node[data-id=\"tvm.driver.build\"] rect').getBoundingClientRect())"
    ))
    browser.click(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    details = browser.evaluate("document.getElementById('details').innerText")
    assert "couples to (7 sites)" in details.lower()
    assert ('python/tvm/driver/build.py:12:8 tvm.driver.build looks up "relax.transform.fuse_ops" via tvm.get_global_func '
            "(unguarded, import time) SG207") in details
    assert 'python/tvm/driver/build.py:28:12 tvm.driver.build looks up "contrib.cutlass.compile" via get_global_func (behind the toggle)' in details
    assert "python/tvm/driver/build.py:54:12 tvm.driver.build → tvm.contrib.msc (dynamic import) SG205" in details
    boxes = browser.evaluate(
        "Array.from(document.querySelectorAll('#kinds input[data-group=coupling]')).map(c => c.dataset.kind).join(',')"
    )
    assert boxes == "registry-lookup,registry-registration,monkeypatch"
    browser.evaluate("document.querySelector('#kinds input[data-kind=registry-lookup]').click()")
    hidden = browser.evaluate("Array.from(document.querySelectorAll('.edge.hidden')).map(e => e.dataset.kind)")
    assert hidden == ["registry-lookup"] * 6
    assert _errors(browser.events) == []
