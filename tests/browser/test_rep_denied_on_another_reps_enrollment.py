"""A rep sees another rep's enrollment but is offered no way to end it, and the server
refuses a forged request with 403; a manager may end it (SPEC §1, §4)."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import APIResponse, Page, expect

from cadency.accounts.models import Role, User
from cadency.sequences.models import Enrollment, Sequence
from tests.browser.builders import (
    confirm_dialog,
    csrf_token,
    enrolled_later,
    expect_opacity,
    person,
    states,
)
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Scene:
    alice: User  # the rep who enrolled Jane
    bob: User  # another rep, who enrolled John
    sequence: Sequence
    janes: Enrollment
    johns: Enrollment


@pytest.fixture
def scene() -> Scene:
    alice = person("alice", "Alice", "Archer")
    bob = person("bob", "Bob", "Baker")
    sequence = make_sequence(alice, name="Intro")
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    john = make_contact("john@globex.test", first_name="John", last_name="Roe")
    return Scene(
        alice,
        bob,
        sequence,
        enrolled_later(jane, sequence, alice),
        enrolled_later(john, sequence, bob),
    )


def forged_post(page: Page, url: str) -> APIResponse:
    """A POST from the page's own session, with a valid CSRF token, as a crafted form would."""
    token = csrf_token(page)
    return page.request.post(
        url,
        form={"csrfmiddlewaretoken": token, "next": "/sequences/scheduled/"},
        headers={"X-CSRFToken": token, "Referer": page.url},
        max_redirects=0,
    )


def test_the_contact_record_offers_bob_no_action_on_alices_enrollment(
    scene: Scene, signed_in_page: SignIn
) -> None:
    page = signed_in_page(scene.bob, next_path=f"/contacts/{scene.janes.contact_id}/")

    banner = page.get_by_role("region", name="Enrolled in «Intro»")
    expect(banner).to_contain_text("Enrolled by Alice Archer")
    expect(banner).to_contain_text(
        "Only Alice Archer, a manager or an admin can pause or unenroll."
    )
    expect(banner.get_by_role("button")).to_have_count(0)


def test_the_actions_menu_offers_bob_only_his_own_enrollment(
    scene: Scene, signed_in_page: SignIn
) -> None:
    page = signed_in_page(scene.bob, next_path=f"/sequences/{scene.sequence.pk}/enrollments/")

    janes = page.get_by_role("row").filter(has_text="jane@acme.test")
    janes.get_by_label("Actions for Jane Doe").click()
    expect(janes.get_by_role("link", name="View contact")).to_be_visible()
    expect(janes).to_contain_text("only they or a manager can change it")
    expect(janes.get_by_role("button")).to_have_count(0)

    johns = page.get_by_role("row").filter(has_text="john@globex.test")
    johns.get_by_label("Actions for John Roe").click()
    expect(johns.get_by_role("button", name="Unenroll")).to_be_visible()


def test_the_scheduled_tab_offers_bob_no_unenroll_on_alices_row(
    scene: Scene, signed_in_page: SignIn
) -> None:
    page = signed_in_page(scene.bob, next_path="/sequences/scheduled/")

    janes = page.get_by_role("row").filter(has_text="jane@acme.test")
    janes.hover()
    expect(janes).to_be_visible()
    expect(janes.get_by_role("button")).to_have_count(0)
    johns = page.get_by_role("row").filter(has_text="john@globex.test")
    johns.hover()
    own = johns.get_by_role("button", name="Unenroll John Roe from Intro")
    expect_opacity(own, 1)


def test_a_forged_unenroll_from_bobs_session_gets_403_and_changes_nothing(
    scene: Scene, signed_in_page: SignIn, app_url: Callable[[str], str]
) -> None:
    before = states([scene.janes])
    page = signed_in_page(scene.bob, next_path="/sequences/scheduled/")

    for action in ("unenroll", "pause"):
        refused = forged_post(page, app_url(f"/enrollments/{scene.janes.pk}/{action}/"))
        assert refused.status == 403, f"{action}: {refused.status} {refused.text()[:200]}"
    # A bulk selection made only of other reps' enrollments is refused too.
    bulk = page.request.post(
        app_url(f"/sequences/{scene.sequence.pk}/enrollments/unenroll/"),
        form={"csrfmiddlewaretoken": csrf_token(page), "ids": str(scene.janes.pk)},
        headers={"Referer": page.url},
        max_redirects=0,
    )
    assert bulk.status == 403
    assert states([scene.janes]) == before
    assert scene.janes.step_runs.filter(state="scheduled").count() == 1
    # The same session and token do work on Bob's own enrollment: the 403 was the permission.
    allowed = forged_post(page, app_url(f"/enrollments/{scene.johns.pk}/unenroll/"))
    assert allowed.status == 302
    assert states([scene.johns]) == {scene.johns.pk: ("unenrolled", "manual", scene.bob.pk)}


def test_a_manager_unenrolls_alices_enrollment(
    scene: Scene, signed_in_page: SignIn, app_url: Callable[[str], str]
) -> None:
    maya = person("maya", "Maya", "Manager", role=Role.MANAGER)
    page = signed_in_page(maya, next_path="/sequences/scheduled/")
    janes = page.get_by_role("row").filter(has_text="jane@acme.test")
    expect(janes.get_by_role("button", name="Unenroll Jane Doe from Intro")).to_have_count(1)
    page.goto(app_url(f"/sequences/{scene.sequence.pk}/enrollments/"))
    janes = page.get_by_role("row").filter(has_text="jane@acme.test")
    janes.get_by_label("Actions for Jane Doe").click()
    expect(janes.get_by_role("button", name="Unenroll")).to_be_visible()

    page.goto(app_url(f"/contacts/{scene.janes.contact_id}/"))
    banner = page.get_by_role("region", name="Enrolled in «Intro»")
    banner.get_by_role("button", name="Unenroll").click()
    with page.expect_navigation():
        confirm_dialog(page).get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text("Unenrolled Jane Doe (jane@acme.test)")
    assert states([scene.janes]) == {scene.janes.pk: ("unenrolled", "manual", maya.pk)}
