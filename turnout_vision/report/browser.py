"""Rendering the HTML report to a PNG with headless Chromium (used by the tests to check it renders).

Chromium runs offline-safe: no network services, a throw-away profile, no sandbox (containers).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path: str | Path, png_path: str | Path, size_wh: tuple[int, int] = (1200, 3000),
               timeout_s: float = 120.0) -> Path:
    """Render ``html_path`` to ``png_path``; raises ``FileNotFoundError`` without Chromium and
    ``RuntimeError`` when no screenshot is written."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("headless Chromium is not installed (Debian: apt-get install chromium)")
    png_path = Path(png_path)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={png_path}",
               f"--window-size={size_wh[0]},{size_wh[1]}", Path(html_path).resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if not png_path.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-800:]}")
    return png_path
