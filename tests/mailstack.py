"""Access to the loopback Postfix + Dovecot + PostgreSQL started by scripts/services/start.sh.

``make test`` starts them and exports ``CADENCY_TEST_SERVICES_DIR``; tests marked
``mail`` use them through this module (read mailboxes, stop and start SMTP).
"""

import imaplib
import os
import shutil
import ssl
import subprocess
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts" / "services"


@dataclass(frozen=True)
class MailStack:
    base: Path
    smtp_port: int
    imap_port: int
    ca_file: str
    password: str

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def imap(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.login(user, self.password)
        return client

    def messages(self, user: str, folder: str = "INBOX") -> list[EmailMessage]:
        client = self.imap(user)
        try:
            status, _ = client.select(f'"{folder}"', readonly=True)
            assert status == "OK", f"no folder {folder} for {user}"
            _, data = client.search(None, "ALL")
            found: list[EmailMessage] = []
            for number in data[0].split():
                _, parts = client.fetch(number, "(BODY.PEEK[])")
                first = parts[0]
                assert isinstance(first, tuple)
                raw = first[1]
                assert isinstance(raw, bytes)
                message = message_from_bytes(raw, policy=policy.default)
                assert isinstance(message, EmailMessage)
                found.append(message)
            return found
        finally:
            client.logout()

    def wait_for_messages(
        self, user: str, count: int, folder: str = "INBOX", timeout: float = 10
    ) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(user, folder)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def empty_all_mailboxes(self) -> None:
        """Delete every stored message of every user (between tests)."""
        vmail = self.base / "vmail"
        for maildir in vmail.glob("*/*/Maildir"):
            for sub in ("cur", "new"):
                for folder in [maildir, *maildir.glob(".*")]:
                    target = folder / sub
                    if target.is_dir():
                        for item in target.iterdir():
                            item.unlink(missing_ok=True)
            for index in maildir.rglob("dovecot.index*"):
                index.unlink(missing_ok=True)
            for uidlist in maildir.rglob("dovecot-uidlist"):
                uidlist.unlink(missing_ok=True)

    def _service(self, script: str, action: str) -> None:
        subprocess.run(
            [str(SCRIPTS / script), action, str(self.base)],
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )

    def stop_smtp(self) -> None:
        self._service("smtp.sh", "stop")

    def start_smtp(self) -> None:
        self._service("smtp.sh", "start")


def read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


@cache
def mailstack_or_none() -> MailStack | None:
    base = os.environ.get("CADENCY_TEST_SERVICES_DIR")
    if not base or not (Path(base) / "env").exists() or not shutil.which("postfix"):
        return None
    env = read_env(Path(base) / "env")
    return MailStack(
        base=Path(base),
        smtp_port=int(env["CADENCY_TEST_SMTP_PORT"]),
        imap_port=int(env["CADENCY_TEST_IMAP_PORT"]),
        ca_file=env["CADENCY_TEST_CA_FILE"],
        password=env["CADENCY_TEST_MAIL_PASSWORD"],
    )


@dataclass(frozen=True)
class CalDavServer:
    """The loopback Radicale: ``user`` and ``user2`` log in with ``password``."""

    url: str
    user: str
    user2: str
    password: str


@cache
def caldav_or_none() -> CalDavServer | None:
    stack = mailstack_or_none()
    if stack is None:
        return None
    env = read_env(stack.base / "env")
    if "CADENCY_TEST_CALDAV_URL" not in env:
        return None
    return CalDavServer(
        url=env["CADENCY_TEST_CALDAV_URL"],
        user=env["CADENCY_TEST_CALDAV_USER"],
        user2=env["CADENCY_TEST_CALDAV_USER2"],
        password=env["CADENCY_TEST_CALDAV_PASSWORD"],
    )
