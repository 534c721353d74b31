"""The report's PDF: the HTML page printed by headless Chromium (Debian's ``chromium`` package).

Chromium is the browser the page is tested in, so the PDF is what a person sees in a browser, laid out by the
template's print CSS (US Letter). It runs with a fresh profile and everything that would reach the network off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from streams.errors import ClearanceError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
)
TIMEOUT_S = 120.0
INSTALL_HINT = "install it with `bash scripts/setup.sh --browser` (Debian's chromium package)"


class ReportError(ClearanceError):
    """The report cannot be rendered (no browser, or the browser failed); the message says what to do."""


def find_browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_headless(args: Sequence[str], *, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[bytes]:
    """Run the browser headless with a fresh profile (removed afterwards); raises :class:`ReportError`."""
    browser = find_browser()
    if browser is None:
        raise ReportError(f"no Chromium found to print the PDF; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="clearance-chromium-") as profile:
        command = [browser, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *args]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"{Path(browser).name} did not finish within {timeout:g} s") from exc
        except OSError as exc:
            raise ReportError(f"cannot run {browser}: {exc.strerror}") from exc
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise ReportError(f"{Path(browser).name} failed (exit {done.returncode}): {' / '.join(tail)}")
    return done


def write_pdf(html_path: str, pdf_path: str) -> str:
    """Print the page at ``html_path`` to ``pdf_path``."""
    url = Path(html_path).resolve().as_uri()
    target = Path(pdf_path).resolve()
    fd, staged = tempfile.mkstemp(prefix=".clearance-", suffix=".pdf", dir=target.parent)
    os.close(fd)
    try:
        run_headless(["--no-pdf-header-footer", f"--print-to-pdf={staged}", url])
        if os.path.getsize(staged) == 0:
            raise ReportError("the browser wrote an empty PDF")
        os.replace(staged, target)
    finally:
        if os.path.exists(staged):
            os.remove(staged)
    return str(target)
