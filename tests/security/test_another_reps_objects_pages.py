"""Every page URL that names an object by an integer id, walked from the URL
resolver, POSTed by one rep (Bob) on another rep's (Alice's) objects.

Each route is classified below: "refused" answers 403 (or 404 for an object Bob
cannot even see: Alice's token or alert) and changes nothing; "read" is a page that
a POST does not change (405, or a page rendered as for GET); "open" is a change any
signed-in user may make by design, with its reason; "bearer" routes are the mail
client sidebar's, called with Bob's API token instead of a session. A new route with
an integer id fails ``test_every_page_with_an_id_is_classified`` until it is added.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from django.test import Client
from django.urls import reverse

from cadency.accounts.tokens import create_token
from tests.security.routes import Route, app_routes
from tests.security.world import World, changes, snapshot

Expect = Literal["refused", "read", "open", "bearer_refused", "bearer_open"]


@dataclass(frozen=True)
class Rule:
    expect: Expect
    pk: str = ""  # the World attribute a <int:pk> names
    reason: str = ""
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})


def refused(pk: str = "", body: Callable[[World], dict[str, Any]] | None = None) -> Rule:
    return Rule("refused", pk=pk, body=body or (lambda w: {}))


def read(pk: str = "") -> Rule:
    return Rule("read", pk=pk, reason="reps see everything (SPEC §1)")


def open_(pk: str, reason: str) -> Rule:
    return Rule("open", pk=pk, reason=reason)


DEMO_ONLY = "404 unless CADENCY_DEMO: the demo's buttons answer as the contact"
ANYONE_ENROLLS = "anyone enrolls any contact as themselves, through their own mailbox"

ROUTES: dict[str, Rule] = {
    # only the owner sees and acts on them: 404 for anyone else
    "account_token_revoke": refused(),
    "alert_dismiss": refused(),
    # contacts: the owner edits and deletes; the addresses, enrolling, meetings: anyone
    "contacts:record": read("contact"),
    "contacts:edit": refused("contact"),
    "contacts:delete": refused("contact"),
    "contacts:add_alias": open_("contact", "addresses are identity: anyone may add one"),
    "contacts:remove_alias": open_("contact", "as contacts:add_alias"),
    "contacts:enroll": open_("contact", ANYONE_ENROLLS),
    "contacts:forecast": read("contact"),
    "contacts:company": read("company"),
    "contacts:company_edit": open_("company", "companies have no owner: anyone may edit one"),
    "meetings:log_on_contact": open_("contact", "any signed-in user may log meetings"),
    "meetings:log_on_company": open_("company", "any signed-in user may log meetings"),
    "meetings:log_on_deal": open_("deal", "any signed-in user may log meetings"),
    "meetings:cancel": refused("meeting"),
    "meetings:link_edit": refused("meeting_link"),
    "meetings:link_deactivate": refused("meeting_link"),
    "meetings:link_activate": refused("meeting_link"),
    # sequences: the owner (or a manager) changes them; enrollments: who made them
    "sequences:steps": read(),
    "sequences:step_new": refused(),
    "sequences:step_edit": refused(),
    "sequences:step_move": refused(body=lambda w: {"direction": "down"}),
    "sequences:step_delete": refused(),
    "sequences:settings": refused(),
    "sequences:delete_sequence": refused(),
    "sequences:enrollments": read(),
    "sequences:bulk_unenroll": refused(body=lambda w: {"ids": [w.enrollment.pk]}),
    "sequences:performance": read(),
    "sequences:automation": read(),
    "sequences:trigger_add": refused(),
    "sequences:trigger_preview": refused(),
    "sequences:trigger_remove": refused(),
    "sequences:unenroll": refused(),
    "sequences:pause": refused(),
    "sequences:resume": refused(),
    "sequences:task_complete": refused(),
    "sequences:task_skip": refused(),
    # mailboxes, calendars and the mail in them are their owner's
    "mailboxes:detail": refused(),
    "mailboxes:test": refused(),
    "mailboxes:limits": refused(body=lambda w: {"daily_limit": 1, "per_minute_limit": 1}),
    "mailboxes:credentials": refused(body=lambda w: {"secret": "stolen"}),
    "calendars:sync": refused(),
    "calendars:disconnect": refused(),
    "inbound:detail": refused(),
    "inbound:raw": refused(),
    "inbound:reprocess": refused(),
    "inbound:relabel": refused(body=lambda w: {"label": "auto_reply"}),
    # deals: documented as anyone's (docs/meetings.md, Deals)
    "deals:record": read("deal"),
    "deals:stage": open_("deal", "any signed-in user may create and change deals"),
    "deals:add_contact": open_("deal", "any signed-in user may create and change deals"),
    "deals:remove_contact": open_("deal", "any signed-in user may create and change deals"),
    # workflows: their owner; lists: conditions and deletion the owner's, members anyone's
    "automation:workflow": read("workflow"),
    "automation:workflow_edit": refused("workflow"),
    "automation:workflow_switch": refused("workflow"),
    "automation:workflow_secret": refused("workflow"),
    "automation:list": read("dynamic_list"),
    "automation:list_conditions": refused("dynamic_list"),
    "automation:list_delete": refused("dynamic_list"),
    "automation:list_member_add": open_("static_list", "anyone may change a static list"),
    "automation:list_member_search": read("static_list"),
    "automation:list_member_remove": open_("static_list", "anyone may change a static list"),
    "demo:reply": Rule("refused", pk="contact", reason=DEMO_ONLY),
    "demo:out_of_office": Rule("refused", pk="contact", reason=DEMO_ONLY),
    # the mail-client sidebar: Bearer tokens, as the API
    "sidebar:unenroll": Rule("bearer_refused"),
    "sidebar:pause": Rule("bearer_refused"),
    "sidebar:resume": Rule("bearer_refused"),
    "sidebar:enroll": Rule("bearer_open", reason=ANYONE_ENROLLS),
}

# What each keyword argument names, by default.
IDS: dict[str, Callable[[World], int]] = {
    "token_id": lambda w: w.token.pk,
    "alert_id": lambda w: w.alert.pk,
    "sequence_id": lambda w: w.sequence.pk,
    "position": lambda w: 1,
    "trigger_id": lambda w: w.trigger.pk,
    "enrollment_id": lambda w: w.enrollment.pk,
    "task_id": lambda w: w.task.pk,
    "mailbox_id": lambda w: w.mailbox.pk,
    "connection_id": lambda w: w.calendar.pk,
    "message_id": lambda w: w.message.pk,
    "contact_id": lambda w: w.contact.pk,
    "contact_pk": lambda w: w.other_contact.pk,
}

ROUTES_WITH_IDS = [route for route in app_routes() if route.int_kwargs]


def url_for(route: Route, rule: Rule, world: World) -> str:
    kwargs = {}
    for name in route.kwargs:
        if name == "pk":
            assert rule.pk, f"{route.name}: say which object its pk names"
            kwargs[name] = getattr(world, rule.pk).pk
        else:
            kwargs[name] = IDS[name](world)
    return reverse(route.name, kwargs=kwargs)


def test_every_page_with_an_id_is_classified() -> None:
    names = {route.name for route in ROUTES_WITH_IDS}
    unclassified = names - ROUTES.keys()
    assert not unclassified, (
        f"new pages {sorted(unclassified)}: say in ROUTES whether a rep may POST to them "
        "with another rep's object"
    )
    assert not ROUTES.keys() - names, "ROUTES names pages that no longer exist"
    for name, rule in ROUTES.items():
        if rule.expect in {"open", "bearer_open"}:
            assert rule.reason, f"{name} is open to everyone: say why"


@pytest.mark.parametrize("route", ROUTES_WITH_IDS, ids=[route.name for route in ROUTES_WITH_IDS])
def test_a_rep_posting_on_another_reps_object(world: World, route: Route) -> None:
    rule = ROUTES.get(route.name)
    if rule is None:
        pytest.fail(f"{route.name} is not classified in ROUTES")
    url = url_for(route, rule, world)
    if rule.expect.startswith("bearer"):
        token = create_token(user=world.bob, name="sidebar").secret
        bob = Client(headers={"Authorization": f"Bearer {token}"})
    else:
        bob = world.client_for(world.bob)
    before = snapshot()
    response = bob.post(url, rule.body(world))
    status = response.status_code
    match rule.expect:
        case "refused" | "bearer_refused":
            assert status in {403, 404}, (url, status)
            assert changes(before) == [], url
        case "read":
            assert status in {200, 405}, (url, status)
            assert changes(before) == [], url
        case "open" | "bearer_open":
            assert status < 500, (url, status)
