"""A real headless Chromium driven over the DevTools protocol, for the UI tests.

Chromium speaks the protocol over a pipe (`--remote-debugging-pipe`: it reads commands on
file descriptor 3 and writes answers on 4, each JSON message ended by a NUL byte), so no
WebSocket library and no browser download are needed: only Debian's `chromium` package.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    configured = os.environ.get("RECON_CHROMIUM")
    if configured:  # a name on PATH or a path; one that does not run counts as missing
        return shutil.which(configured)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(Exception):
    pass


class Browser:
    """One headless Chromium with one page; `close()` ends the process."""

    def __init__(self, executable: str, *, width: int = 1400, height: int = 1000) -> None:
        self._profile = tempfile.mkdtemp(prefix="recon-chromium-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire_pipes() -> None:  # runs in the child: the protocol's fixed descriptors
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self._process = subprocess.Popen(
            [executable, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             f"--window-size={width},{height}", f"--user-data-dir={self._profile}",
             "about:blank"],
            # 3 and 4 stay open in the child after wire_pipes: keep them from close_fds.
            pass_fds=(3, 4, to_browser_read, from_browser_write), preexec_fn=wire_pipes,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target,
                                  flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width,
                  height=height, deviceScaleFactor=1, mobile=False)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                self._messages.put(json.loads(message))

    def call(self, method: str, *, session: bool = False, timeout: float = 20,
             **params: Any) -> dict[str, Any]:
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if answer.get("id") == ident:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self._events.append(answer)

    def wait_for(self, event: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for index, seen in enumerate(self._events):
                if seen.get("method") == event:
                    return self._events.pop(index)
            try:
                self._events.append(self._messages.get(timeout=max(0.01,
                                                                    deadline - time.monotonic())))
            except queue.Empty:
                raise BrowserError(f"no {event} within {timeout} s") from None

    def _forget(self, event: str) -> None:
        self._events = [e for e in self._events if e.get("method") != event]

    def goto(self, url: str) -> None:
        self._forget("Page.loadEventFired")
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def submit_and_wait(self, expression: str) -> None:
        """Run script that submits a form, then wait for the next page to load."""
        self._forget("Page.loadEventFired")
        self.evaluate(expression)
        self.wait_for("Page.loadEventFired")

    def press(self, key: str, *, expect_navigation: bool = False) -> None:
        """Type one printable key as a person would (keydown, char, keyup)."""
        if expect_navigation:
            self._forget("Page.loadEventFired")
        code = f"Key{key.upper()}" if key.isalpha() else ""
        common: dict[str, Any] = {"key": key, "code": code,
                                  "windowsVirtualKeyCode": ord(key.upper())}
        self.call("Input.dispatchKeyEvent", session=True, type="keyDown", text=key, **common)
        self.call("Input.dispatchKeyEvent", session=True, type="keyUp", **common)
        if expect_navigation:
            self.wait_for("Page.loadEventFired")

    def wait_until(self, expression: str, timeout: float = 10) -> Any:
        """Poll a script until it returns something truthy (e.g. rows a fetch has added)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"{expression}: still false after {timeout} s")
            time.sleep(0.05)

    def type_text(self, selector: str, text: str) -> None:
        """Focus a field and type into it; the page sees the same input events as from keys."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus(); true")
        self.call("Input.insertText", session=True, text=text)

    def click(self, selector: str, *, count: int = 1, expect_navigation: bool = False) -> None:
        """Click the middle of an element with the mouse (count=2: a double-click)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        if box is None:
            raise BrowserError(f"nothing matches {selector}")
        if expect_navigation:
            self._forget("Page.loadEventFired")
        x, y = box
        self.call("Input.dispatchMouseEvent", session=True, type="mouseMoved", x=x, y=y)
        for clicks in range(1, count + 1):
            for kind in ("mousePressed", "mouseReleased"):
                self.call("Input.dispatchMouseEvent", session=True, type=kind, x=x, y=y,
                          button="left", buttons=1 if kind == "mousePressed" else 0,
                          clickCount=clicks)
        if expect_navigation:
            self.wait_for("Page.loadEventFired")

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        """A PNG of the viewport, or of the whole page however long (full_page)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": min(size["height"], 8000), "scale": 1}
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(BrowserError, queue.Empty, OSError):
            self.call("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._reader.join(timeout=5)
        shutil.rmtree(self._profile, ignore_errors=True)
