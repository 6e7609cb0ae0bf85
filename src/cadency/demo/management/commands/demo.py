import os
import signal
import stat
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, NoReturn

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

import cadency
from cadency.demo.seeding import (
    REP_PASSWORD,
    REP_USERNAME,
    MailServers,
    enroll_demo_contacts,
    seed_demo,
)
from cadency.mailboxes.services import check_mailbox
from cadency.sequences.models import EnrollmentStatus

SERVICES_SCRIPTS = Path(cadency.__file__).resolve().parents[2] / "scripts" / "services"


class Command(BaseCommand):
    help = (
        "Try Cadency: start the loopback Postfix + Dovecot (as the tests do), seed a rep, "
        "contacts and a sequence, enroll them and run Cadency in demo mode. Needs root "
        "and a source checkout; Ctrl-C stops everything."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--services-dir",
            default=str(settings.VAR_DIR / "demo-services"),
            help="where the mail servers keep config and mail (default var/demo-services)",
        )
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port to serve")

    def handle(self, *args: Any, **options: Any) -> None:
        services = Path(options["services_dir"]).resolve()
        ca_file = str(services / "tls" / "cert.pem")
        if not (
            settings.CADENCY_DEMO
            and settings.CADENCY_ALLOW_TEST_DOMAINS
            and ca_file == settings.CADENCY_MAIL_CA_FILE
        ):
            restart_in_demo_mode(services, ca_file, options["bind"])
        if os.geteuid() != 0:
            raise CommandError(
                "the demo starts Postfix and Dovecot on 127.0.0.1, which needs root "
                "(as `make test` does); run `make demo` as root"
            )
        if not (SERVICES_SCRIPTS / "start.sh").exists():
            raise CommandError(f"the demo needs a source checkout: no {SERVICES_SCRIPTS}/start.sh")
        check_reachable_by_daemons(services)

        def stop(signum: int, frame: object) -> NoReturn:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        call_command("init")
        services_script("start.sh", services)
        try:
            self.seed_and_explain(read_servers(services / "env"), options["bind"])
            call_command("run", bind=options["bind"])
        except KeyboardInterrupt:
            pass
        finally:
            services_script("stop.sh", services)

    def seed_and_explain(self, servers: MailServers, bind: str) -> None:
        data = seed_demo(servers)
        check = check_mailbox(data.mailbox)
        if not check.ok:
            raise CommandError(f"the demo mailbox does not work: {'; '.join(check.errors)}")
        enrolled = enroll_demo_contacts(data)
        for refusal in enrolled.refused:
            self.stderr.write(f"Not enrolled: {refusal}")
        open_count = data.sequence.enrollments.filter(status=EnrollmentStatus.ACTIVE).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"\nCadency demo: open http://{bind}/ and sign in as '{REP_USERNAME}' "
                f"with password '{REP_PASSWORD}'."
            )
        )
        self.stdout.write(
            f"- {data.rep.display_name}'s mailbox {data.mailbox.email} is on the local "
            f"mail server (SMTP 127.0.0.1:{servers.smtp_port}, IMAP 127.0.0.1:"
            f"{servers.imap_port}).\n"
            f"- {open_count} contacts are active in «{data.sequence.name}» "
            f"({len(enrolled.enrollments)} enrolled just now); the worker sends their "
            "first email within seconds.\n"
            '- Open Contacts, pick one, and press "Reply as this contact": the '
            "enrollment ends within a second. An out-of-office leaves it running.\n"
            "- Ctrl-C stops Cadency and the mail servers.\n"
        )


def restart_in_demo_mode(services: Path, ca_file: str, bind: str) -> NoReturn:
    """Settings are read once at start-up: start this command again with the demo's."""
    env = {
        **os.environ,
        "CADENCY_DEMO": "1",
        "CADENCY_ALLOW_TEST_DOMAINS": "1",
        "CADENCY_MAIL_CA_FILE": ca_file,
        "CADENCY_BASE_URL": os.environ.get("CADENCY_BASE_URL", f"http://{bind}"),
    }
    if not settings.CADENCY_DEMO:
        # A database of its own (var/demo/), so the demo's people never mix with real ones.
        env["CADENCY_VAR_DIR"] = str(settings.VAR_DIR / "demo")
    argv = [sys.executable, "-m", "cadency.cli", "demo", "--services-dir", str(services)]
    os.execve(sys.executable, [*argv, "--bind", bind], env)  # noqa: S606


def check_reachable_by_daemons(services: Path) -> None:
    """Postfix, Dovecot and PostgreSQL run as their own users: they must reach the folder."""
    for folder in services.parents:
        if folder.exists() and not folder.stat().st_mode & stat.S_IXOTH:
            raise CommandError(
                f"the mail servers run as their own users and cannot enter {folder}, "
                f"so they cannot use {services}: choose another folder, e.g. "
                "--services-dir /tmp/cadency-demo"
            )


def services_script(name: str, services: Path) -> None:
    try:
        subprocess.run(  # noqa: S603
            [str(SERVICES_SCRIPTS / name), str(services)], check=True, stdin=subprocess.DEVNULL
        )
    except subprocess.CalledProcessError as exc:
        raise CommandError(f"scripts/services/{name} failed (exit {exc.returncode})") from exc


def read_servers(env_file: Path) -> MailServers:
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return MailServers(
        smtp_port=int(values["CADENCY_TEST_SMTP_PORT"]),
        imap_port=int(values["CADENCY_TEST_IMAP_PORT"]),
        password=values["CADENCY_TEST_MAIL_PASSWORD"],
    )
