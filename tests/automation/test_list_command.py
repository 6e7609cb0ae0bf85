"""``cadency list``: create, add, remove, show."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cadency.automation.models import ContactList, ListKind
from cadency.automation.services.lists import create_list
from cadency.cli import COMMANDS
from cadency.contacts.services import add_alias
from cadency.ledger.models import Event
from tests.automation.list_support import list_state, make_rep, members
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

SET_EMAIL = '[{"field": "email", "op": "is_set"}]'


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("list", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def fails(*args: str, match: str) -> None:
    before = list_state()
    with pytest.raises(CommandError, match=match):
        run(*args)
    assert list_state() == before


def test_the_command_is_listed_in_the_help() -> None:
    assert "list" in COMMANDS


def test_create_a_static_list_then_add_and_remove_a_contact_by_address() -> None:
    make_rep("ria")
    jane = make_contact("jane@acme.test")
    add_alias(contact=jane, email="j.doe@acme.test")
    assert "Created the static list «VIP»" in run("create", "VIP", "--static", "--as", "ria")
    vip = ContactList.objects.get(name="VIP")
    assert vip.owner is not None and vip.owner.username == "ria"
    assert run("add", "VIP", "J.Doe@acme.test", "--as", "ria").strip() == (
        "Added jane@acme.test to «VIP»."
    )
    assert "already in" in run("add", str(vip.pk), "jane@acme.test", "--as", "ria")
    assert members(vip) == {"jane@acme.test"}
    assert Event.objects.get(kind="list_member_added").actor == vip.owner
    assert "Removed jane@acme.test" in run("remove", "vip", "jane@acme.test", "--as", "ria")
    assert members(vip) == set()
    assert Event.objects.filter(kind="list_member_removed").count() == 1


def test_create_a_dynamic_list_from_json_conditions() -> None:
    make_rep("ria")
    make_contact("jane@acme.test", lifecycle_stage="customer")
    conditions = json.dumps([{"field": "lifecycle_stage", "op": "is", "value": "customer"}])
    out = run("create", "Customers", "--dynamic", "--conditions", conditions, "--as", "ria")
    assert "with 1 contact(s)" in out
    data = json.loads(run("show", "Customers", "--json"))
    assert data["kind"] == "dynamic"
    assert data["members"] == ["jane@acme.test"]
    shown = run("show", "Customers")
    assert "lifecycle_stage is “customer”" in shown
    assert "  jane@acme.test" in shown


def test_show_without_a_list_shows_every_list() -> None:
    assert "No lists yet" in run("show")
    create_list(name="VIP", kind=ListKind.STATIC, actor=make_rep("ria"))
    table = run("show")
    assert "VIP" in table and "static" in table and "ria" in table


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("create", "X", "--dynamic", "--conditions", "[{", "--as", "ria"), "not valid JSON"),
        (("create", "X", "--dynamic", "--as", "ria"), "needs --conditions"),
        (
            ("create", "X", "--dynamic", "--conditions", '[{"field": "shoe"}]', "--as", "ria"),
            "unknown field 'shoe'.*nothing was created",
        ),
        (
            ("create", "X", "--static", "--conditions", SET_EMAIL, "--as", "ria"),
            "a static list has no conditions",
        ),
        (("create", "X", "--static", "--as", "nobody"), "no user named 'nobody'"),
        (("add", "VIP", "nobody@acme.test", "--as", "ria"), "no contact with the address"),
        (("add", "Nope", "jane@acme.test", "--as", "ria"), "there is no list 'Nope'"),
        (("add", "Customers", "jane@acme.test", "--as", "ria"), "dynamic: its conditions"),
        (("remove", "Customers", "jane@acme.test", "--as", "ria"), "dynamic: its conditions"),
        (("show", "Nope"), "there is no list 'Nope'"),
    ],
)
def test_bad_input_fails_clearly_and_changes_nothing(args: tuple[str, ...], match: str) -> None:
    ria = make_rep("ria")
    make_contact("jane@acme.test", lifecycle_stage="customer")
    create_list(name="VIP", kind=ListKind.STATIC, actor=ria)
    create_list(
        name="Customers",
        kind=ListKind.DYNAMIC,
        actor=ria,
        conditions=[{"field": "lifecycle_stage", "op": "is", "value": "customer"}],
    )
    fails(*args, match=match)
