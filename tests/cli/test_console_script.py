"""The real ``cadency`` console script, run as a user would run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cadency.cli import COMMANDS

CADENCY = Path(sys.executable).with_name("cadency")


def cadency(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CADENCY), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    """A fresh SQLite database of its own, whatever database the suite runs on."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "CADENCY_VAR_DIR": str(tmp_path),
        "CADENCY_ALLOW_TEST_DOMAINS": "1",
        "DJANGO_SETTINGS_MODULE": "cadency.settings",
    }
    assert cadency("migrate", "-v", "0", env=env).returncode == 0
    return env


def test_help_lists_every_command() -> None:
    result = cadency("--help")
    assert result.returncode == 0
    for name in ["run", "worker", "migrate", "user", "mailbox", "contacts", "sequence",
                 "enroll", "unenroll", "enrollments", "events", "task"]:  # fmt: skip
        assert name in COMMANDS
        assert f"\n  {name} " in result.stdout


def test_every_listed_command_exists() -> None:
    from django.core.management import get_commands

    missing = set(COMMANDS) - set(get_commands())
    assert not missing


def test_a_subcommand_has_its_own_help() -> None:
    result = cadency("unenroll", "--help")
    assert result.returncode == 0
    assert "--sequence" in result.stdout
    assert "--yes" in result.stdout


def test_a_session_through_the_console_script(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    created = cadency(
        "user", "create", "ada", "--email", "ada@example.test", "--password-stdin", "--json",
        env=sqlite_env, stdin="correct horse battery staple\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["username"] == "ada"

    users = cadency("user", "list", "--json", env=sqlite_env)
    assert [u["username"] for u in json.loads(users.stdout)] == ["ada"]

    csv = tmp_path / "contacts.csv"
    csv.write_text("email,first_name\njane@acme.test,Jane\nbroken,Bad\nkim@acme.test,Kim\n")
    imported = cadency("contacts", "import", str(csv), "--json", env=sqlite_env)
    assert imported.returncode == 1
    report = json.loads(imported.stdout)
    assert (report["created"], [e["line"] for e in report["errors"]]) == (2, [3])
    assert "were not imported; the others were kept" in imported.stderr

    spec = tmp_path / "intro.yaml"
    spec.write_text("name: Intro\nsteps:\n  - type: task\n    title: Research\n")
    made = cadency("sequence", "create", str(spec), "--owner", "ada", "--json", env=sqlite_env)
    assert made.returncode == 0, made.stderr
    sequence_id = str(json.loads(made.stdout)["id"])

    refused = cadency(
        "enroll", "--contact", "jane@acme.test", "--sequence", sequence_id, "--as", "ada",
        env=sqlite_env,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("refused (no_working_mailbox): ")
    assert refused.stdout == ""

    unknown = cadency("unenroll", "99", "--as", "ada", "--yes", env=sqlite_env)
    assert unknown.returncode == 1
    assert "there is no enrollment with id 99; nothing was changed" in unknown.stderr

    bad_arg = cadency("enrollments", "list", "--status", "gone", env=sqlite_env)
    assert bad_arg.returncode == 2
    assert "invalid choice: 'gone'" in bad_arg.stderr
