import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.inbound.classifier.helpers import crlf, reply

OUT_OF_OFFICE = crlf(
    reply("I am out of the office, back on 8 March.", subject="Automatic reply: Quick question")
)
BOUNCE = crlf(
    """
Return-Path: <>
From: Mail Delivery System <Mailer-Daemon@mx.example.com>
To: ola@example.com
Subject: Mail delivery failed: returning message to sender
Date: Wed, 3 Mar 2027 10:00:00 +0000
X-Failed-Recipients: jane.doe@acme.test

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  jane.doe@acme.test
    550 5.1.1 <jane.doe@acme.test>: Recipient address rejected: User unknown
"""
)


def run(*args: str) -> list[dict[str, object]]:
    out = io.StringIO()
    call_command("classify", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_prints_one_json_object_per_message(tmp_path: Path) -> None:
    (tmp_path / "ooo.eml").write_bytes(OUT_OF_OFFICE)
    (tmp_path / "bounce.eml").write_bytes(BOUNCE)
    lines = run("--json", str(tmp_path / "ooo.eml"), str(tmp_path / "bounce.eml"))
    assert [line["file"] for line in lines] == [
        str(tmp_path / "ooo.eml"),
        str(tmp_path / "bounce.eml"),
    ]
    ooo, bounce = lines
    assert ooo["label"] == "auto_reply"
    assert ooo["return_date"] == "2027-03-08"
    assert 0 <= float(str(ooo["confidence"])) <= 1
    assert isinstance(ooo["reasons"], list) and ooo["reasons"]
    assert bounce["label"] == "bounce_hard"
    assert bounce["failed_recipients"] == [
        {"address": "jane.doe@acme.test", "status": "5.1.1", "action": "failed"}
    ]
    assert bounce["return_date"] is None


def test_it_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stdin:
        buffer = io.BytesIO(OUT_OF_OFFICE)

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert run("--json", "-")[0]["label"] == "auto_reply"


def test_an_unreadable_file_is_an_error_line_and_the_rest_goes_on(tmp_path: Path) -> None:
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "ooo.eml").write_bytes(OUT_OF_OFFICE)
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "classify",
            "--json",
            str(tmp_path / "missing.eml"),
            str(tmp_path / "empty.eml"),
            str(tmp_path / "ooo.eml"),
            stdout=out,
        )
    assert raised.value.returncode == 1
    missing, empty, ooo = (json.loads(line) for line in out.getvalue().splitlines())
    assert missing["label"] == "error" and "cannot read" in missing["reasons"][0]
    assert empty["label"] == "error" and "cannot parse" in empty["reasons"][0]
    assert ooo["label"] == "auto_reply"


def test_without_json_it_prints_a_readable_line_per_file(tmp_path: Path) -> None:
    (tmp_path / "bounce.eml").write_bytes(BOUNCE)
    out = io.StringIO()
    call_command("classify", str(tmp_path / "bounce.eml"), stdout=out)
    first = out.getvalue().splitlines()[0]
    assert first.startswith(f"{tmp_path / 'bounce.eml'}: bounce_hard (")
    assert "jane.doe@acme.test 5.1.1" in first


def test_the_console_script_exits_1_when_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "ooo.eml").write_bytes(OUT_OF_OFFICE)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "cadency"),
            "classify",
            "--json",
            str(tmp_path / "ooo.eml"),
            str(tmp_path / "nope.eml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    labels = [json.loads(line)["label"] for line in done.stdout.splitlines()]
    assert labels == ["auto_reply", "error"]
