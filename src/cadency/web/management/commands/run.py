import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server, the worker and the mailbox watcher together; Ctrl-C stops all."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port to serve")
        parser.add_argument("--workers", type=int, default=1, help="task worker processes")

    def handle(self, *args: Any, **options: Any) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cadency = [sys.executable, "-m", "cadency.cli"]
        commands = [
            [
                sys.executable,
                "-m",
                "gunicorn",
                "cadency.wsgi",
                "--bind",
                options["bind"],
                "--workers",
                "2",
                "--access-logfile",
                "-",
            ],
            *([*cadency, "worker"] for _ in range(options["workers"])),
            [*cadency, "watch"],
        ]
        children = [subprocess.Popen(command, env=env) for command in commands]  # noqa: S603
        self.stdout.write(f"Cadency is running on http://{options['bind']}/ — Ctrl-C stops it.")

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        # Set both explicitly: a shell may start us with SIGINT ignored.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("A Cadency process exited; stopping the others.")
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
