import pytest

from cadency.accounts.models import Role
from cadency.ledger.models import Event
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    StepRun,
    StepRunState,
    UnenrollReason,
)
from cadency.sequences.services.enrollment import pause
from tests.cli.conftest import Answer, Fails, Run, enrolled, task_first_sequence
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def status(enrollment: Enrollment) -> str:
    enrollment.refresh_from_db()
    return enrollment.status


def test_a_rep_unenrolls_their_own_enrollment_by_id(run: Run) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))
    result = run("unenroll", str(enrollment.pk), "--as", "ada", "--yes")
    assert "Unenrolled 1 enrollment(s); 0 had already ended." in result.out
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.UNENROLLED
    assert enrollment.reason == UnenrollReason.MANUAL
    assert enrollment.ended_by == ada
    # nothing more will run, and history stays
    assert not StepRun.objects.filter(enrollment=enrollment, state=StepRunState.SCHEDULED)
    assert Event.objects.filter(enrollment=enrollment, kind="enrolled").exists()


def test_it_refuses_another_reps_enrollment_and_changes_nothing(fails: Fails) -> None:
    make_user("ada")
    bo = make_user("bo")
    theirs = enrolled(bo, task_first_sequence(bo))
    events = Event.objects.count()
    result = fails("unenroll", str(theirs.pk), "--as", "ada", "--yes", match="refused")
    assert f"refused: enrollment {theirs.pk}" in result.err
    assert "was enrolled by bo" in result.err
    assert status(theirs) == EnrollmentStatus.ACTIVE
    assert Event.objects.count() == events


def test_with_mixed_ids_a_rep_ends_their_own_and_others_stay(fails: Fails) -> None:
    ada, bo = make_user("ada"), make_user("bo")
    sequence = task_first_sequence(ada)
    mine = enrolled(ada, sequence)
    theirs = enrolled(bo, sequence)
    result = fails(
        "unenroll", str(mine.pk), str(theirs.pk), "--as", "ada", "--yes", "--json",
        match="1 enrollment\\(s\\) made by other users were refused",
    )  # fmt: skip
    assert result.json["ended"] == 1
    assert result.json["refused"] == [
        {"id": theirs.pk, "contact": theirs.email, "sequence": "Intro", "enrolled_by": "bo"}
    ]
    assert status(mine) == EnrollmentStatus.UNENROLLED
    assert status(theirs) == EnrollmentStatus.ACTIVE


def test_a_manager_may_unenroll_anyones_enrollments(run: Run) -> None:
    make_user("mo", role=Role.MANAGER)
    ada, bo = make_user("ada"), make_user("bo")
    sequence = task_first_sequence(ada)
    first, second = enrolled(ada, sequence), enrolled(bo, sequence)
    result = run("unenroll", str(first.pk), str(second.pk), "--as", "mo", "--yes", "--json")
    assert result.json == {"selected": 2, "ended": 2, "already_ended": 0, "refused": []}
    assert status(first) == status(second) == EnrollmentStatus.UNENROLLED


def test_an_unknown_id_is_a_clear_error_and_nothing_changes(fails: Fails) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))
    fails(
        "unenroll", str(enrollment.pk), "424242", "--as", "ada", "--yes",
        match="no enrollment with id 424242; nothing was changed",
    )  # fmt: skip
    assert status(enrollment) == EnrollmentStatus.ACTIVE


def test_an_unknown_acting_user_is_a_clear_error(fails: Fails) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))
    fails("unenroll", str(enrollment.pk), "--as", "ghost", "--yes", match="no user named 'ghost'")
    assert status(enrollment) == EnrollmentStatus.ACTIVE


def test_already_ended_enrollments_are_counted_not_changed(run: Run) -> None:
    ada = make_user("ada")
    sequence = task_first_sequence(ada)
    first, second = enrolled(ada, sequence), enrolled(ada, sequence)
    run("unenroll", str(first.pk), "--as", "ada", "--yes")
    first.refresh_from_db()
    ended_at = first.ended_at
    result = run("unenroll", str(first.pk), str(second.pk), "--as", "ada", "--yes", "--json")
    assert (result.json["ended"], result.json["already_ended"]) == (1, 1)
    first.refresh_from_db()
    assert first.ended_at == ended_at


def test_it_unenrolls_by_contact_email(run: Run) -> None:
    ada = make_user("ada")
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(ada, task_first_sequence(ada), contact=jane)
    run("unenroll", "--contact", "Jane@Acme.test", "--as", "ada", "--yes")
    assert status(enrollment) == EnrollmentStatus.UNENROLLED


def test_an_unknown_contact_is_a_clear_error(fails: Fails) -> None:
    make_user("ada")
    fails("unenroll", "--contact", "nobody@acme.test", "--as", "ada", "--yes",
          match="no contact with the address nobody@acme.test")  # fmt: skip


def test_a_contact_with_no_open_enrollment_is_reported(run: Run) -> None:
    make_user("ada")
    make_contact("jane@acme.test")
    result = run("unenroll", "--contact", "jane@acme.test", "--as", "ada", "--yes")
    assert "No open enrollment matches; nothing was changed." in result.out


def test_it_unenrolls_a_whole_sequence_with_all(run: Run) -> None:
    admin = make_user("mo", role=Role.ADMIN)
    sequence = task_first_sequence(admin)
    other = task_first_sequence(admin, name="Other")
    inside = [enrolled(admin, sequence) for _ in range(3)]
    outside = enrolled(admin, other)
    pause(enrollment=inside[0], actor=admin)
    result = run(
        "unenroll", "--sequence", str(sequence.pk), "--all", "--as", "mo", "--yes", "--json"
    )
    assert result.json["ended"] == 3
    assert all(status(e) == EnrollmentStatus.UNENROLLED for e in inside)
    assert status(outside) == EnrollmentStatus.ACTIVE


def test_it_unenrolls_a_sequence_by_status_and_enrolling_user(run: Run) -> None:
    make_user("mo", role=Role.MANAGER)
    ada, bo = make_user("ada"), make_user("bo")
    sequence = task_first_sequence(ada)
    paused_ada, active_ada, paused_bo = (
        enrolled(ada, sequence),
        enrolled(ada, sequence),
        enrolled(bo, sequence),
    )
    pause(enrollment=paused_ada, actor=ada)
    pause(enrollment=paused_bo, actor=bo)
    run(
        "unenroll", "--sequence", str(sequence.pk), "--status", "paused", "--enrolled-by", "ada",
        "--as", "mo", "--yes",
    )  # fmt: skip
    assert status(paused_ada) == EnrollmentStatus.UNENROLLED
    assert status(active_ada) == EnrollmentStatus.ACTIVE
    assert status(paused_bo) == EnrollmentStatus.PAUSED


def test_a_rep_unenrolling_a_whole_sequence_only_ends_their_own(fails: Fails) -> None:
    ada, bo = make_user("ada"), make_user("bo")
    sequence = task_first_sequence(ada)
    mine, theirs = enrolled(ada, sequence), enrolled(bo, sequence)
    result = fails("unenroll", "--sequence", str(sequence.pk), "--all", "--as", "ada", "--yes",
                   match="made by other users were refused")  # fmt: skip
    assert "Unenrolled 1 enrollment(s)" in result.out
    assert f"refused: enrollment {theirs.pk}" in result.err
    assert status(mine) == EnrollmentStatus.UNENROLLED
    assert status(theirs) == EnrollmentStatus.ACTIVE


def test_a_sequence_needs_all_or_a_filter(fails: Fails) -> None:
    ada = make_user("ada")
    sequence = task_first_sequence(ada)
    enrollment = enrolled(ada, sequence)
    fails("unenroll", "--sequence", str(sequence.pk), "--as", "ada", "--yes",
          match="--sequence needs --all or a filter")  # fmt: skip
    fails("unenroll", "--sequence", str(sequence.pk), "--all", "--status", "paused", "--as",
          "ada", "--yes", match="--all means every open enrollment")  # fmt: skip
    fails("unenroll", "--sequence", "999", "--all", "--as", "ada", "--yes",
          match="no sequence with id 999")  # fmt: skip
    assert status(enrollment) == EnrollmentStatus.ACTIVE


def test_ids_and_filters_do_not_mix_and_something_must_be_chosen(fails: Fails) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))
    fails("unenroll", str(enrollment.pk), "--contact", "x@acme.test", "--as", "ada",
          match="not both")  # fmt: skip
    fails("unenroll", "--as", "ada", match="say what to unenroll")
    fails("unenroll", "0", "--as", "ada", match="must be 1 or more")
    assert status(enrollment) == EnrollmentStatus.ACTIVE


def test_it_asks_for_confirmation_showing_the_count(run: Run, answer: Answer) -> None:
    ada = make_user("ada")
    sequence = task_first_sequence(ada)
    first, second = enrolled(ada, sequence), enrolled(ada, sequence)
    answer("y")
    result = run("unenroll", str(first.pk), str(second.pk), "--as", "ada", "--json")
    assert "Unenroll 2 enrollments? [y/N]" in result.err
    assert result.json["ended"] == 2  # the prompt did not spoil the JSON on stdout
    assert status(first) == status(second) == EnrollmentStatus.UNENROLLED


def test_declining_the_prompt_changes_nothing(fails: Fails, answer: Answer) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))
    events = Event.objects.count()
    asked = answer("")
    result = fails("unenroll", str(enrollment.pk), "--as", "ada", match="cancelled")
    assert len(asked) == 1
    assert f"Unenroll enrollment {enrollment.pk} ({enrollment.email} in «Intro»)?" in result.err
    assert status(enrollment) == EnrollmentStatus.ACTIVE
    assert Event.objects.count() == events


def test_yes_skips_the_prompt(run: Run, answer: Answer) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))
    asked = answer("n")
    run("unenroll", str(enrollment.pk), "--as", "ada", "--yes")
    assert asked == []
    assert status(enrollment) == EnrollmentStatus.UNENROLLED


def test_no_answer_on_closed_stdin_counts_as_no(
    fails: Fails, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))

    def closed(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed)
    fails("unenroll", str(enrollment.pk), "--as", "ada", match="cancelled")
    assert status(enrollment) == EnrollmentStatus.ACTIVE
