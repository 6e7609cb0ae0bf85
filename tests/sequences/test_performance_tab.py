"""The Performance tab: the funnel and unenrollments by reason as tables and charts,
the same before and after a manual unenrollment; and the Automation tab."""

import re
from typing import Any

import pytest

from cadency.sequences.models import StepRun, StepRunState, UnenrollReason
from cadency.sequences.services.enrollment import unenroll
from tests.factories import make_sequence
from tests.sequences.pages import client_for, enroll_some, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_history() -> Any:
    alice = person("alice")
    sequence = make_sequence(alice, name="Intro")
    replied, bounced, active, _other = enroll_some(alice, sequence, 4)
    StepRun.objects.filter(enrollment__sequence=sequence).update(state=StepRunState.SENT)
    unenroll(enrollment=replied, reason=UnenrollReason.REPLIED)
    unenroll(enrollment=bounced, reason=UnenrollReason.BOUNCED)
    return alice, sequence, active


def numbers_on(html: str) -> str:
    """The page's funnel table, without the by-reason section."""
    start = html.index('id="funnel-heading"')
    return re.sub(r"\s+", " ", html[start : html.index('id="reasons-heading"')])


def test_the_page_shows_the_funnel_as_charts_and_a_table(sent_history: Any) -> None:
    alice, sequence, _ = sent_history
    response = client_for(alice).get(f"/sequences/{sequence.pk}/performance/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="bar sent" style="width: 100.0%"' in html
    assert 'class="bar replied" style="width: 25.0%"' in html
    assert "Step 1 · Automated email" in html
    assert '<td class="num">1 <span class="muted small">(25.0%)</span></td>' in html
    assert "never deleted or rewritten" in html
    assert "Replied" in html and "Bounced" in html
    assert 'class="bar reason"' in html
    assert "<script" not in html.split('id="funnel-heading"')[1], "no charting library"


def test_the_numbers_do_not_change_when_someone_is_unenrolled(sent_history: Any) -> None:
    alice, sequence, active = sent_history
    client = client_for(alice)
    url = f"/sequences/{sequence.pk}/performance/"
    before = client.get(url)
    assert unenroll(enrollment=active, reason=UnenrollReason.MANUAL, actor=alice)
    after = client.get(url)
    assert numbers_on(after.content.decode()) == numbers_on(before.content.decode())
    old, new = before.context["report"], after.context["report"]
    assert new.unenrolled_by_reason == {**old.unenrolled_by_reason, "manual": 1}


def test_a_sequence_without_history_says_so(sent_history: Any) -> None:
    alice, _, _ = sent_history
    empty = make_sequence(alice, name="Empty")
    html = client_for(alice).get(f"/sequences/{empty.pk}/performance/").content.decode()
    assert "No enrollment of this sequence has been unenrolled." in html
    assert client_for(alice).get("/sequences/999999/performance/").status_code == 404


def test_the_automation_tab_lists_what_already_unenrolls() -> None:
    alice = person("alice")
    sequence = make_sequence(alice, name="Intro")
    response = client_for(alice).get(f"/sequences/{sequence.pk}/automation/")
    assert response.status_code == 200
    html = response.content.decode()
    main = html[html.index('id="main"') : html.index('id="confirm-dialog"')]
    for code in ("replied", "emailed_from_alias", "company_replied", "bounced", "unsubscribed"):
        assert f"<code>{code}</code>" in main
    assert "Off for this sequence" in main
