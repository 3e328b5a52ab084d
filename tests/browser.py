"""What the real-browser tests share: Debian's Chromium on a phone's screen and a portal process.

`cautiva portal` runs as its own process on a free port and on the suite's test database; the
browser is headless Chromium with Debian's chromedriver, so Selenium Manager never downloads
anything. Without them the tests fail under CI and are skipped elsewhere.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from conftest import TEST_SECRET_KEY, _in_ci
from radius_harness import CAUTIVA

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE = {"width": 390, "height": 844, "pixelRatio": 2}
WAIT = 10.0
"""Seconds any one page or router request may take before the test gives up."""


def free_tcp_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the portal process -------------------------------------------------------------------------


class PortalProcess:
    """`cautiva portal` on a free port, its output kept in a log file."""

    def __init__(self, database_url: str, data_dir: Path, log_path: Path) -> None:
        self.port = free_tcp_port()
        self.log_path = log_path
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CAUTIVA_")},
            "CAUTIVA_ENV": "development",
            "CAUTIVA_DATABASE_URL": database_url,
            "CAUTIVA_SECRET_KEY": TEST_SECRET_KEY,
            "CAUTIVA_DATA_DIR": str(data_dir),
            "CAUTIVA_PORTAL_HOST": "127.0.0.1",
            "CAUTIVA_PORTAL_PORT": str(self.port),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        """Scheme, host and port, as the browser sees them."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> PortalProcess:
        """Start the portal and wait until `/healthz` answers."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [CAUTIVA, "portal", "--log-level", "INFO"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"cautiva portal exited at start:\n{self.log_text()[-4000:]}")
            try:
                if httpx.get(f"{self.origin}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"cautiva portal did not answer /healthz:\n{self.log_text()[-4000:]}")

    def log_text(self) -> str:
        """Everything the portal printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        """Stop the portal with SIGTERM and return its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


def portal_fixture(name: str) -> Callable[..., Iterator[PortalProcess]]:
    """A module's `portal` fixture; its log is kept as `test-artifacts/<name>-browser-portal.log`.

    In a test module: `portal = portal_fixture("admin")`.
    """

    @pytest.fixture(scope="module")
    def portal(
        database_url: str, tmp_path_factory: pytest.TempPathFactory, artifacts: Path
    ) -> Iterator[PortalProcess]:
        """One portal process for this module, on the suite's test database; its log is kept."""
        folder = tmp_path_factory.mktemp(f"{name}-portal")
        process = PortalProcess(database_url, folder / "data", folder / "portal.log").start()
        try:
            yield process
        finally:
            code = process.stop()
            (artifacts / f"{name}-browser-portal.log").write_text(process.log_text())
            assert code == 0, f"cautiva portal exited with {code}"

    return portal


# --- the browser --------------------------------------------------------------------------------


def require_browser() -> None:
    """Fail under CI, skip elsewhere, when Debian's Chromium or its driver is missing."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not missing:
        return
    message = (
        f"{' and '.join(missing)} missing: install Debian's chromium and chromium-driver "
        "(make system-deps)"
    )
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module", autouse=True)
def chromium_installed() -> None:
    """Check for the browser before the portal process is started for nothing.

    Imported into each browser test module (`from browser import chromium_installed as ...`).
    """
    require_browser()


@contextmanager
def phone_browser(downloads: Path | None = None) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a phone's screen; never downloads a driver (Selenium Manager).

    With `downloads`, the browser saves the files a page offers there, unasked.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={PHONE['width']},{PHONE['height']}",
        "--no-first-run",
        "--no-default-browser-check",
    ):
        options.add_argument(argument)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
    if downloads is not None:
        prefs: dict[str, Any] = {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
        }
        options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager is skipped and downloads nothing.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a phone's screen (`phone_browser`), for one test."""
    with phone_browser() as driver:
        yield driver
