"""/mailboxes: your own (managers: everyone's), one, and its health; never a secret."""

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.mailboxes.models import FolderSyncState, Mailbox
from tests.api.support import Api, error_of

pytestmark = pytest.mark.django_db


def test_a_rep_lists_their_own_mailboxes(as_alice: Api, alice: User, bob: User) -> None:
    page = as_alice.get("/mailboxes").json()
    assert [m["email"] for m in page["items"]] == ["alice@example.test"]
    mailbox = page["items"][0]
    assert mailbox["smtp"]["host"] == "127.0.0.1"
    assert not any("secret" in key or "password" in key for key in mailbox)


def test_a_manager_lists_everyones(as_maya: Api, alice: User, bob: User, maya: User) -> None:
    assert as_maya.get("/mailboxes").json()["count"] == 3
    only_bob = as_maya.get("/mailboxes", user=bob.pk).json()["items"]
    assert [m["user"]["username"] for m in only_bob] == ["bob"]


def test_a_rep_cannot_see_another_reps_mailbox(as_alice: Api, bob: User) -> None:
    theirs = bob.mailboxes.get().pk
    error_of(as_alice.get(f"/mailboxes/{theirs}"), 403, "forbidden")
    error_of(as_alice.get(f"/mailboxes/{theirs}/health"), 403, "forbidden")


def test_it_shows_a_mailboxs_health(as_alice: Api, alice: User) -> None:
    mailbox: Mailbox = alice.mailboxes.get()
    FolderSyncState.objects.create(
        mailbox=mailbox, folder="INBOX", last_uid=42, last_synced_at=timezone.now()
    )
    assert as_alice.get(f"/mailboxes/{mailbox.pk}").json()["health"] == "ok"
    health = as_alice.get(f"/mailboxes/{mailbox.pk}/health").json()
    assert (health["health"], health["sent_today"], health["daily_limit"]) == ("ok", 0, 500)
    inbox = next(f for f in health["folders"] if f["folder"] == "INBOX")
    assert inbox["last_uid"] == 42 and inbox["last_synced_at"]
    assert health["watcher"] is None


def test_unknown_mailboxes_are_not_found(as_alice: Api) -> None:
    error_of(as_alice.get("/mailboxes/999"), 404, "not_found")
    error_of(as_alice.get("/mailboxes/999/health"), 404, "not_found")
    error_of(as_alice.get("/mailboxes", user=999), 404, "not_found")
