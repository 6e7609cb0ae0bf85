"""What the crash, race and scale benchmarks share: real `cadency` processes, the
loopback stack's maildirs and mail queue, and a provider that files sent mail."""

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts" / "services"

# Short recovery timings so a run takes minutes, not hours; the same knobs an
# operator has (SPEC 12-factor settings), the logic is the product's.
FAST_RECOVERY = {
    "CADENCY_SENDING_STALE_SECONDS": "10",
    "CADENCY_SWEEP_INTERVAL_SECONDS": "2",
    "CADENCY_RETRY_DELAYS": "5,10,20",
    "CADENCY_MAILBOX_RETEST_SECONDS": "5",
}

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)
MAILDIR_TIME = re.compile(r"^(\d+)\.M(\d+)P")
# The queue id Postfix gave the message when it accepted it over SMTP.
POSTFIX_QUEUE_ID = re.compile(rb"\(Postfix\) with E?SMTP\w* id ([0-9A-Fa-z]+)")


def services_dir() -> Path:
    return Path(os.environ["CADENCY_TEST_SERVICES_DIR"])


def start_cadency(command: str, env: dict[str, str], log: Path, *args: str) -> "Process":
    """A `cadency worker` or `cadency watch` process; its output goes to ``log``."""
    with log.open("ab") as output:
        popen = subprocess.Popen(
            [sys.executable, "-m", "cadency.cli", command, *args],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Process(popen)


@dataclass
class Process:
    popen: "subprocess.Popen[bytes]"

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, exactly like a crash."""
        self.popen.kill()
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.alive:
            self.popen.terminate()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def stop_all(processes: Iterable[Process]) -> None:
    for process in processes:
        if process.alive:
            process.popen.terminate()
    for process in processes:
        process.stop()


@dataclass(frozen=True)
class Delivered:
    """One message file in a Maildir, with the time Dovecot delivered it."""

    message_id: str
    delivered_at: float  # seconds since the epoch, from the file's name (microseconds)
    path: Path
    queue_id: str  # one per SMTP transaction Postfix accepted


def maildirs(domain: str, users: Iterable[str] | None = None, folder: str = "") -> list[Path]:
    """The Maildir folders of a domain's users (``folder`` "" is INBOX, ".Sent" …)."""
    root = services_dir() / "vmail" / domain
    names = list(users) if users is not None else sorted(p.name for p in root.iterdir())
    return [root / name / "Maildir" / folder for name in names]


def delivered(folders: Iterable[Path]) -> list[Delivered]:
    """Every message in the folders, read from the files (fast; no IMAP)."""
    found: list[Delivered] = []
    for folder in folders:
        for sub in ("new", "cur"):
            directory = folder / sub
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                with path.open("rb") as file:
                    head = file.read(16384)
                header_end = head.find(b"\n\n")
                crlf_end = head.find(b"\r\n\r\n")
                ends = [e for e in (header_end, crlf_end) if e >= 0]
                headers = head[: min(ends)] if ends else head
                match = MESSAGE_ID.search(headers)
                queue = POSTFIX_QUEUE_ID.search(headers)
                when = MAILDIR_TIME.match(path.name)
                seconds = int(when.group(1)) + int(when.group(2)) / 1e6 if when else 0.0
                found.append(
                    Delivered(
                        match.group(1).decode() if match else "",
                        seconds,
                        path,
                        queue.group(1).decode() if queue else "",
                    )
                )
    return found


def mail_queue_empty() -> bool:
    result = subprocess.run(
        ["postqueue", "-c", str(services_dir() / "postfix"), "-j"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and not result.stdout.strip()


def wait_for_empty_queue(timeout: float = 120) -> None:
    """Postfix has delivered (or bounced) everything it accepted."""
    deadline = time.monotonic() + timeout
    while not mail_queue_empty():
        if time.monotonic() > deadline:
            raise RuntimeError(f"Postfix still has queued mail after {timeout:.0f} s")
        time.sleep(0.2)
    time.sleep(0.3)  # the last LMTP delivery is written before the queue entry goes


def service(script: str, action: str) -> None:
    """Stop or start Postfix (smtp.sh) or Dovecot (imap.sh) alone."""
    subprocess.run(
        [str(SCRIPTS / script), action, str(services_dir())],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )


SENT_SIEVE = """require ["fileinto"];
if address :is "from" "{user}" {{ fileinto "Sent"; stop; }}
"""


@contextmanager
def provider_files_sent_mail(user: str) -> Iterator[None]:
    """Make the loopback stack behave like Gmail or Microsoft 365 for ``user``: a copy
    of every message it sends is filed in its Sent folder by the server (Postfix
    ``sender_bcc_maps`` to the sender, a Sieve rule filing it in Sent). Undone on exit."""
    base = services_dir()
    postfix = base / "postfix"
    local, domain = user.split("@")
    sieve = base / "vmail" / domain / local / ".dovecot.sieve"
    table = postfix / "bench_sender_bcc"
    table.write_text(f"{user} {user}\n")
    sieve.write_text(SENT_SIEVE.format(user=user))
    subprocess.run(["chown", "vmail:vmail", str(sieve)], check=True)
    postconf(postfix, "-e", f"sender_bcc_maps = texthash:{table}")
    try:
        yield
    finally:
        postconf(postfix, "-X", "sender_bcc_maps")
        sieve.unlink(missing_ok=True)
        table.unlink(missing_ok=True)


def postconf(postfix: Path, *args: str) -> None:
    subprocess.run(["postconf", "-c", str(postfix), *args], check=True)
    # Reload only a running Postfix (the SMTP outage scenario stops it for a while).
    subprocess.run(["postfix", "-c", str(postfix), "reload"], capture_output=True, check=False)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, step: float = 0.05
) -> float:
    """Poll ``condition`` until true; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what}: not done after {timeout:.0f} s")
        time.sleep(step)
    return time.monotonic() - started
