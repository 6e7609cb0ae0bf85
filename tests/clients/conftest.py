"""Fixtures for the mail-client tests: the clients built for a test Cadency, and
Microsoft's Office add-in manifest tools (npm packages, run with Node.js).

The tools are installed from ``clients/tools/package-lock.json`` into
``var/clients-tools/`` on first use (``npm ci``, a few seconds; again only when the
lock file changes). Without Node.js and npm, or without the npm registry, the tests
that need them are skipped, or fail when ``CADENCY_REQUIRE_SERVICES`` is set
(``make test``, which installs Node.js through scripts/services/install.sh).
"""

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.harness_server import CLIENTS

ROOT = CLIENTS.parent
TOOLS_SOURCE = CLIENTS / "tools"
TOOLS_DIR = ROOT / "var" / "clients-tools"
TOOLS_FILES = ("package.json", "package-lock.json")
NPM_TIMEOUT_S = 300
TEST_CADENCY = "https://cadency.example.com"


def unavailable(reason: str) -> None:
    if os.environ.get("CADENCY_REQUIRE_SERVICES"):
        pytest.fail(f"CADENCY_REQUIRE_SERVICES is set but {reason}")
    pytest.skip(reason)


def node() -> str:
    found = shutil.which("node")
    if found is None:
        unavailable("Node.js is missing: install it with scripts/services/install.sh (as root)")
    assert found is not None
    return found


def tools_installed() -> bool:
    marker = TOOLS_DIR / "node_modules" / ".package-lock.json"
    return marker.exists() and all(
        (TOOLS_DIR / name).read_bytes() == (TOOLS_SOURCE / name).read_bytes()
        for name in TOOLS_FILES
    )


@pytest.fixture(scope="session")
def office_tools() -> Path:
    """``node_modules`` holding office-addin-manifest and its XML-to-JSON converter."""
    node()
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is missing: install it with scripts/services/install.sh (as root)")
    assert npm is not None
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    with (TOOLS_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing
        if not tools_installed():
            for name in TOOLS_FILES:
                shutil.copyfile(TOOLS_SOURCE / name, TOOLS_DIR / name)
            command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"]
            try:
                subprocess.run(
                    command,
                    cwd=TOOLS_DIR,
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=NPM_TIMEOUT_S,
                )
            except subprocess.CalledProcessError as failed:
                (TOOLS_DIR / "node_modules" / ".package-lock.json").unlink(missing_ok=True)
                unavailable(f"`npm ci` of clients/tools failed:\n{failed.stderr[-2000:]}")
            except subprocess.TimeoutExpired:
                unavailable(f"`npm ci` of clients/tools took over {NPM_TIMEOUT_S} s")
    return TOOLS_DIR / "node_modules"


def build(out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(CLIENTS / "build.py"), "--out", str(out), *options]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The clients built for the Cadency at TEST_CADENCY (as `make extensions` would)."""
    out = tmp_path_factory.mktemp("dist")
    built = build(out, "--base-url", TEST_CADENCY)
    assert built.returncode == 0, built.stderr
    yield out
