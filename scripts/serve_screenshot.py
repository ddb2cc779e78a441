"""Take the README's picture of the `stdp-mnist serve` page: serve a run on a free
localhost port, draw a digit on the page with the mouse in headless Chromium, wait for
the answer and save a screenshot (docs/assets/serve-page.png by default).

Chromium is the distribution's (/usr/bin/chromium, /usr/bin/chromedriver:
apt-get install chromium chromium-driver), driven by Selenium (the browser-test extra)
with Selenium Manager kept offline. The browser test (tests/integration/
test_serve_browser.py) drives the page with the same functions.

    python scripts/serve_screenshot.py RUN_DIR [--out docs/assets/serve-page.png]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1500",
)
# A "7" drawn as two mouse strokes: (x, y) offsets in pixels from the canvas centre.
SEVEN = (((-70, -80), (70, -80), (60, -40), (20, 20), (0, 90)), ((-20, 5), (50, 5)))
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(run: Path, cli: Path) -> Iterator[str]:
    """`stdp-mnist serve RUN` (the console script ``cli``) on a free localhost port; yields
    its URL once it answers, then stops it with SIGINT, as Ctrl-C would, and raises
    RuntimeError unless it exited 0 saying 'stopped' with no traceback."""
    port = free_port()
    process = subprocess.Popen(
        [str(cli), "serve", str(run), "--port", str(port)], stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            try:
                urllib.request.urlopen(url + "api/run", timeout=5).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: {process.communicate()[1]}") from None
                time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        err = process.communicate(timeout=30)[1]
    if process.returncode != 0 or "Traceback" in err or not err.strip().endswith("stopped"):
        raise RuntimeError(f"serve did not stop cleanly (exit {process.returncode}): {err}")


def chromium(profile: Path):
    """Headless Chromium through the system chromedriver, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not download anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))


def draw_and_classify(driver, url: str, strokes=SEVEN, timeout_s: float = 120) -> None:
    """Open the page, draw ``strokes`` on it with the mouse (releasing after each) and wait
    for the answer to the last; RuntimeError if the page reports an error."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    wait = WebDriverWait(driver, timeout_s)
    wait.until(lambda d: "neurons" in d.find_element(By.ID, "run-line").text)
    canvas = driver.find_element(By.ID, "digit")
    status = driver.find_element(By.ID, "status")
    for stroke in strokes:
        driver.execute_script("arguments[0].dataset.state = '';", status)
        (x0, y0), rest = stroke[0], stroke[1:]
        actions = ActionChains(driver).move_to_element_with_offset(canvas, x0, y0).click_and_hold()
        for (xa, ya), (xb, yb) in zip(stroke, rest, strict=False):
            for k in range(1, 6):  # a few small moves per segment, as a hand would
                actions.move_to_element_with_offset(canvas, xa + (xb - xa) * k // 5, ya + (yb - ya) * k // 5)
        actions.release().perform()
        wait.until(lambda d: status.get_attribute("data-state") in ("done", "error"))
        if status.get_attribute("data-state") != "done":
            raise RuntimeError(f"the page says: {status.text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an evaluated run directory or model file")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "assets" / "serve-page.png")
    args = parser.parse_args(argv)
    cli = Path(sys.executable).with_name("stdp-mnist")
    with serving(args.run, cli) as url, tempfile.TemporaryDirectory() as profile:
        driver = chromium(Path(profile))
        try:
            draw_and_classify(driver, url)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
