"""Watched folders: the setting on Mailbox, the service that changes it, the
``cadency mailbox`` command and the admin form."""

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from cadency.inbound.folders import (
    FolderError,
    clean_folder_names,
    from_imap_utf7,
    imap_folder,
    missing_folders,
    server_folders,
    set_watched_folders,
    to_imap_utf7,
)
from cadency.ledger.models import Event
from cadency.mailboxes.models import FolderSyncState, Mailbox
from cadency.sequences.services.presend import synced_recently
from tests.factories import make_mailbox, make_user
from tests.mailstack import MailStack

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("mailbox", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(*args: str, match: str) -> None:
    with pytest.raises(CommandError, match=match):
        run(*args)


def ada_mailbox() -> Mailbox:
    return make_mailbox(make_user("ada"), "ada@example.test")


# --- the setting -------------------------------------------------------------------------


def test_a_new_mailbox_watches_only_its_inbox() -> None:
    mailbox = ada_mailbox()
    assert mailbox.watched_folders == ["INBOX"]
    assert mailbox.folders_to_watch == ["INBOX"]


def test_inbox_is_always_watched_first_and_every_folder_once() -> None:
    mailbox = ada_mailbox()
    mailbox.watched_folders = ["Replies", "inbox", " Replies ", "", "replies"]
    assert mailbox.folders_to_watch == ["INBOX", "Replies", "replies"]  # only INBOX ignores case
    assert clean_folder_names(["Replies", "INBOX", "Sales/Replies", "Replies"]) == [
        "INBOX",
        "Replies",
        "Sales/Replies",
    ]


@pytest.mark.parametrize(
    ("names", "error"),
    [
        (["Rep\nlies"], "control character"),
        (["x" * 201], "longer than 200 characters"),
        ([f"Folder {n}" for n in range(20)], "at most 20 folders"),
    ],
)
def test_unusable_folder_lists_are_refused_with_the_reason(names: list[str], error: str) -> None:
    with pytest.raises(FolderError, match=error):
        clean_folder_names(names)


def test_setting_the_folders_records_who_did_it_and_what_changed() -> None:
    mailbox = ada_mailbox()
    assert set_watched_folders(mailbox=mailbox, folders=["Replies"], actor=mailbox.user)
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX", "Replies"]
    event = Event.objects.get(kind="mailbox_folders_changed")
    assert event.actor == mailbox.user
    assert event.sentence == (
        "Ada Example set the folders watched for replies in ada@example.test: INBOX, Replies."
    )
    assert event.data["added"] == ["Replies"] and event.data["removed"] == []
    assert not set_watched_folders(mailbox=mailbox, folders=["INBOX", "Replies"], actor=None)
    assert Event.objects.filter(kind="mailbox_folders_changed").count() == 1, "no change, no event"


def test_an_added_folder_is_read_from_now_and_a_removed_one_forgets_its_place() -> None:
    mailbox = ada_mailbox()
    FolderSyncState.objects.create(mailbox=mailbox, folder="INBOX", uidvalidity=7, last_uid=40)
    set_watched_folders(mailbox=mailbox, folders=["Replies"], actor=None)
    added = FolderSyncState.objects.get(mailbox=mailbox, folder="Replies")
    assert (added.uidvalidity, added.watched_since is not None) == (None, True)
    FolderSyncState.objects.filter(pk=added.pk).update(uidvalidity=3, last_uid=12)

    set_watched_folders(mailbox=mailbox, folders=[], actor=None)
    assert list(FolderSyncState.objects.values_list("folder", "last_uid")) == [("INBOX", 40)]


def test_the_check_before_sending_is_skipped_only_when_every_folder_was_read_recently(
    settings: Any,
) -> None:
    settings.CADENCY_PRESEND_SYNC_SECONDS = 60
    mailbox = ada_mailbox()
    set_watched_folders(mailbox=mailbox, folders=["Replies"], actor=None)
    now = timezone.now()
    FolderSyncState.objects.create(mailbox=mailbox, folder="INBOX", last_synced_at=now)
    assert not synced_recently(mailbox), "Replies was never read"
    replies = FolderSyncState.objects.filter(mailbox=mailbox, folder="Replies")
    replies.update(last_synced_at=now - dt.timedelta(seconds=90))
    assert not synced_recently(mailbox), "Replies was read too long ago"
    replies.update(last_synced_at=now)
    assert synced_recently(mailbox)
    settings.CADENCY_PRESEND_SYNC_SECONDS = 0
    assert not synced_recently(mailbox), "0: always read before sending"


# --- names on the wire ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("Replies", "Replies"),
        ("Réponses", "R&AOk-ponses"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("返信", "&j9RP4Q-"),
        ("Entwürfe/Antworten", "Entw&APw-rfe/Antworten"),
    ],
)
def test_folder_names_use_imaps_modified_utf7(name: str, wire: str) -> None:
    assert to_imap_utf7(name) == wire
    assert from_imap_utf7(wire) == name
    assert imap_folder(name) == f'"{wire}"'


class FakeList:
    def __init__(self, lines: list[Any]) -> None:
        self.lines = lines

    def list(self) -> tuple[str, list[Any]]:
        return "OK", self.lines


def test_the_servers_folders_are_read_from_list_responses() -> None:
    client: Any = FakeList(
        [
            b'(\\HasNoChildren) "." INBOX',
            b'(\\HasNoChildren \\Sent) "." "Sent Items"',
            b'(\\HasNoChildren) "." "R&AOk-ponses"',
            b'(\\Noselect \\HasChildren) "/" "[Gmail]"',
            b'(\\HasNoChildren) "/" "Say \\"hi\\""',
            (b'(\\HasNoChildren) "/" {7}', b"Odd one"),
            b")",
        ]
    )
    folders = server_folders(client)
    assert folders == ["INBOX", "Sent Items", "Réponses", 'Say "hi"', "Odd one"]
    assert missing_folders(["INBOX", "Réponses", "Replies"], folders) == ["Replies"]


# --- cadency mailbox ------------------------------------------------------------------------


def test_the_command_shows_the_watched_folders() -> None:
    mailbox = ada_mailbox()
    mailbox.watched_folders = ["INBOX", "Replies"]
    mailbox.save()
    FolderSyncState.objects.create(mailbox=mailbox, folder="INBOX", uidvalidity=7, last_uid=40)
    table = run("folders", "ada@example.test")
    assert table.splitlines()[0].split() == ["FOLDER", "UIDVALIDITY", "LAST", "UID", "LAST", "READ"]
    assert "INBOX" in table and "Replies" in table and "40" in table
    data = json.loads(run("folders", str(mailbox.pk), "--json"))
    assert [(f["folder"], f["last_uid"]) for f in data["folders"]] == [
        ("INBOX", 40),
        ("Replies", 0),
    ]
    listed = json.loads(run("list", "--json"))
    assert listed[0]["watched_folders"] == ["INBOX", "Replies"]


def test_the_owner_sets_adds_and_removes_folders_without_a_server_check() -> None:
    mailbox = ada_mailbox()
    out = run("folders", "ada@example.test", "--watch", "Replies", "--as", "ada", "--no-test")
    assert "ada@example.test now watches: INBOX, Replies." in out
    run("folders", "ada@example.test", "--add", "Sales/Replies", "--as", "ada", "--no-test")
    run("folders", "ada@example.test", "--remove", "Replies", "--as", "ada", "--no-test")
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX", "Sales/Replies"]
    assert Event.objects.filter(kind="mailbox_folders_changed", actor=mailbox.user).count() == 3


def test_an_admin_may_change_anothers_folders_but_a_rep_or_manager_may_not() -> None:
    mailbox = ada_mailbox()
    make_user("bo")
    make_user("meg", role="manager")
    make_user("root", role="admin")
    for who in ("bo", "meg"):
        refused(
            "folders", "ada@example.test", "--add", "Replies", "--as", who, "--no-test",
            match=f"{who} may not change ada@example.test: only its owner or an admin",
        )  # fmt: skip
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX"]
    run("folders", "ada@example.test", "--add", "Replies", "--as", "root", "--no-test")
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX", "Replies"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--add", "Replies"], "needs --as USERNAME"),
        (["--remove", "INBOX", "--as", "ada"], "INBOX is always watched"),
        (["--remove", "Archive", "--as", "ada"], "Archive is not watched in ada@example.test"),
        (["--add", "Bad\tname", "--as", "ada"], "control character"),
        (["--add", "Replies", "--as", "ghost"], "no user named 'ghost'"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(args: list[str], error: str) -> None:
    mailbox = ada_mailbox()
    refused("folders", "ada@example.test", *args, "--no-test", match=error)
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX"]
    assert not Event.objects.filter(kind="mailbox_folders_changed").exists()


def test_an_unknown_mailbox_is_a_clear_error() -> None:
    refused("folders", "nobody@example.test", match=r"no mailbox 'nobody@example\.test'")


def test_the_server_check_refuses_a_folder_it_cannot_reach_and_changes_nothing() -> None:
    mailbox = ada_mailbox()
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_host="127.0.0.1", imap_port=9)
    refused(
        "folders", "ada@example.test", "--add", "Replies", "--as", "ada",
        match="cannot list the folders of ada@example.test .*use --no-test",
    )  # fmt: skip
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX"]


def test_adding_a_mailbox_can_watch_folders_and_a_bad_name_adds_nothing() -> None:
    make_user("ada")
    add = [
        "add", "--user", "ada", "--email", "ada@example.test", "--password", "pw",
        "--smtp-host", "smtp.example.test", "--imap-host", "imap.example.test", "--no-test",
    ]  # fmt: skip
    refused(*add, "--watch-folder", "Bad\x01", match="cannot add the mailbox: .*control")
    assert not Mailbox.objects.exists()
    run(*add, "--watch-folder", "Replies", "--watch-folder", "Sales/Replies")
    assert Mailbox.objects.get().watched_folders == ["INBOX", "Replies", "Sales/Replies"]


# --- against the loopback Dovecot -------------------------------------------------------------


@pytest.mark.mail
def test_the_server_check_names_a_folder_the_server_lacks(mailstack: MailStack) -> None:
    mailbox = make_mailbox(make_user("alice"), "rep@example.test")
    client = mailstack.imap("rep@example.test")
    try:
        client.create(imap_folder("Réponses"))
    finally:
        client.logout()
    refused(
        "folders", "rep@example.test", "--watch", "Nowhere", "--as", "alice",
        match="the server of rep@example.test has no folder Nowhere; nothing was changed",
    )  # fmt: skip
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX"]
    out = run("folders", "rep@example.test", "--watch", "Réponses", "--as", "alice")
    assert "now watches: INBOX, Réponses" in out

    mailbox.watched_folders = ["INBOX", "Réponses", "Gone"]
    mailbox.save()
    with pytest.raises(CommandError, match="has no folder Gone"):
        call_command("mailbox", "test", "rep@example.test", stdout=io.StringIO())


@pytest.mark.mail
def test_every_folder_listed_by_the_server_can_be_opened(mailstack: MailStack) -> None:
    client = mailstack.imap("rep@example.test")
    try:
        names = server_folders(client)
        assert {"INBOX", "Sent", "Drafts", "Trash", "Junk"} <= set(names)
        for name in names:
            assert client.select(imap_folder(name), readonly=True)[0] == "OK", name
    finally:
        client.logout()


# --- the admin --------------------------------------------------------------------------------


def test_the_admin_form_edits_the_watched_folders_one_a_line() -> None:
    admin = make_user("root", role="admin", is_staff=True, is_superuser=True)
    mailbox = make_mailbox(admin)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/mailboxes/mailbox/{mailbox.pk}/change/")
    assert page.status_code == 200
    assert b"Watched folders" in page.content
    fields = {
        "user": admin.pk,
        "email": mailbox.email,
        "display_name": "Root",
        "username": mailbox.username,
        "auth_method": "password",
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
        "smtp_security": "starttls",
        "imap_host": "127.0.0.1",
        "imap_port": 1143,
        "imap_security": "starttls",
        "sent_folder": "Sent",
        "sent_copy": "append",
        "daily_limit": 100,
        "per_minute_limit": 10,
        "time_zone": "UTC",
    }
    url = f"/admin/mailboxes/mailbox/{mailbox.pk}/change/"
    bad = client.post(url, {**fields, "folders": "Rep\x7flies"})
    assert bad.status_code == 200 and b"control character" in bad.content
    response = client.post(url, {**fields, "folders": "INBOX\r\nReplies\r\n\r\nSales/Replies"})
    assert response.status_code == 302, response.content[:2000]
    mailbox.refresh_from_db()
    assert mailbox.watched_folders == ["INBOX", "Replies", "Sales/Replies"]
    assert Event.objects.get(kind="mailbox_folders_changed").actor == admin
