"""`cadency demo`: the checks it makes before starting anything."""

from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import SettingsWrapper

from cadency.demo.management.commands import demo as command


class Restarted(Exception):
    """Stands for os.execve, which never returns."""


def test_without_demo_settings_the_command_starts_again_in_demo_mode(
    settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.CADENCY_DEMO = False
    settings.VAR_DIR = tmp_path / "var"
    services = tmp_path / "services"

    with (
        mock.patch.object(command.os, "execve", side_effect=Restarted) as execve,
        pytest.raises(Restarted),
    ):
        call_command("demo", services_dir=str(services), bind="127.0.0.1:8123")

    _, argv, env = execve.call_args.args
    assert argv[-5:] == ["demo", "--services-dir", str(services), "--bind", "127.0.0.1:8123"]
    assert env["CADENCY_DEMO"] == "1"
    assert env["CADENCY_ALLOW_TEST_DOMAINS"] == "1"
    assert env["CADENCY_MAIL_CA_FILE"] == str(services / "tls" / "cert.pem")
    assert env["CADENCY_VAR_DIR"] == str(tmp_path / "var" / "demo")


def demo_settings(settings: SettingsWrapper, services: Path) -> None:
    settings.CADENCY_DEMO = True
    settings.CADENCY_ALLOW_TEST_DOMAINS = True
    settings.CADENCY_MAIL_CA_FILE = str(services / "tls" / "cert.pem")


def test_the_demo_needs_root_to_start_the_mail_servers(
    settings: SettingsWrapper, tmp_path: Path
) -> None:
    demo_settings(settings, tmp_path)
    with (
        mock.patch.object(command.os, "geteuid", return_value=1000),
        mock.patch.object(command, "services_script") as script,
        pytest.raises(CommandError, match="needs root"),
    ):
        call_command("demo", services_dir=str(tmp_path))
    script.assert_not_called()


def test_a_folder_the_mail_daemons_cannot_enter_is_refused_before_anything_starts(
    settings: SettingsWrapper, tmp_path: Path
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    services = private / "services"
    demo_settings(settings, services)
    with (
        mock.patch.object(command.os, "geteuid", return_value=0),
        mock.patch.object(command, "services_script") as script,
        pytest.raises(CommandError, match=f"cannot enter {private}"),
    ):
        call_command("demo", services_dir=str(services))
    script.assert_not_called()


def test_the_mail_servers_ports_are_read_from_their_env_file(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.write_text(
        "CADENCY_TEST_SMTP_PORT=3225\nCADENCY_TEST_IMAP_PORT=1843\n"
        "CADENCY_TEST_MAIL_PASSWORD=secret\nCADENCY_TEST_PG_URL=postgres://x:y@h:1/db\n"
    )

    servers = command.read_servers(env)

    assert (servers.smtp_port, servers.imap_port, servers.password) == (3225, 1843, "secret")
