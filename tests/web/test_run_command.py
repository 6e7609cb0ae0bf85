"""The README's first command: `cadency init` + `cadency run` on SQLite, nothing else."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_init_then_run_serves_the_app_with_a_worker_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO"))}
    env["CADENCY_VAR_DIR"] = str(tmp_path / "var")
    cadency = [sys.executable, "-m", "cadency.cli"]

    init = subprocess.run(
        [*cadency, "init"], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert "Created the first admin" in init.stdout
    assert (tmp_path / "var" / "cadency.sqlite3").exists()
    again = subprocess.run(
        [*cadency, "init"], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert "Created the first admin" not in again.stdout, "only the first time"

    port = free_port()
    server = subprocess.Popen(
        [*cadency, "run", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert server.poll() is None, "cadency run exited early"
                assert time.monotonic() < deadline, "the web server did not answer"
                time.sleep(0.3)
        workers = subprocess.run(
            ["pgrep", "-f", "cadency.cli worker", "-s", str(server.pid)],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert workers, "the task worker runs alongside the web server"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise
    assert server.returncode is not None
    leftovers = subprocess.run(
        ["pgrep", "-s", str(server.pid)],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert leftovers == [], f"Ctrl-C leaves nothing running:\n{output}"
