"""Names that carry HTML and script run nothing in a real browser (Chromium): the
pages that show them open no dialog and add no element of their own."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog

from tests.browser.conftest import SignIn
from tests.security.world import build_world

pytestmark = pytest.mark.browser

# Elements the payloads would create if a page wrote them as markup.
INJECTED = """() => document.querySelectorAll('img[src="x"]').length
    + [...document.scripts].filter((s) => s.textContent.includes('alert(1)')).length"""


def test_no_dialog_fires_on_the_pages_that_show_script_in_names(
    signed_in_page: SignIn, app_url: Callable[[str], str]
) -> None:
    world = build_world()
    page = signed_in_page(world.alice)
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    paths = [
        f"/contacts/{world.contact.pk}/",
        "/contacts/",
        f"/companies/{world.company.pk}/",
        f"/sequences/{world.sequence.pk}/enrollments/",
        "/sequences/scheduled/",
        f"/inbound/{world.message.pk}/",
        "/tasks/",
        "/workflows/",
        "/lists/",
        "/alerts/",
    ]
    for path in paths:
        page.goto(app_url(path))
        page.wait_for_load_state("load")
        injected = page.evaluate(INJECTED)
        assert injected == 0, path
    contact = app_url(f"/contacts/{world.contact.pk}/")
    page.goto(contact)
    assert "<script>alert(1)</script>" in page.inner_text("main")  # shown as text
    assert dialogs == []
