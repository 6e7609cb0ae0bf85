import io

import pytest
from django.core.management.base import CommandError

from cadency.accounts.models import Role, User
from cadency.sequences.models import EnrollmentStatus, UnenrollReason
from tests.cli.conftest import Answer, Run, enrolled, task_first_sequence
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_it_creates_a_user_with_a_password_option(run: Run) -> None:
    result = run(
        "user", "create", "ada", "--email", "Ada@Example.test", "--role", "manager",
        "--first-name", "Ada", "--last-name", "Lovelace", "--password", PASSWORD,
    )  # fmt: skip
    user = User.objects.get(username="ada")
    assert user.role == Role.MANAGER
    assert user.email == "ada@example.test"
    assert user.check_password(PASSWORD)
    assert "Created manager ada" in result.out


def test_it_reads_the_password_from_stdin(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    result = run(
        "user", "create", "bo", "--email", "bo@example.test", "--password-stdin", "--json"
    )  # fmt: skip
    assert result.json["username"] == "bo"
    assert result.json["role"] == "rep"
    assert User.objects.get(username="bo").check_password(PASSWORD)


def test_it_prompts_for_the_password_twice(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    run("user", "create", "cy", "--email", "cy@example.test")
    assert len(prompts) == 2
    assert User.objects.get(username="cy").check_password(PASSWORD)


def test_it_refuses_mismatched_prompted_passwords(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([PASSWORD, "something else entirely"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="do not match"):
        run("user", "create", "cy", "--email", "cy@example.test")
    assert not User.objects.filter(username="cy").exists()


def test_it_refuses_a_duplicate_username(run: Run) -> None:
    make_user("ada")
    with pytest.raises(CommandError, match="already exists"):
        run("user", "create", "ada", "--email", "x@example.test", "--password", PASSWORD)
    assert User.objects.filter(username="ada").count() == 1


def test_it_refuses_a_weak_password(run: Run) -> None:
    with pytest.raises(CommandError, match="too short"):
        run("user", "create", "ada", "--email", "ada@example.test", "--password", "abc")
    assert not User.objects.filter(username="ada").exists()


def test_it_refuses_an_invalid_email(run: Run) -> None:
    with pytest.raises(CommandError, match="not a valid email address"):
        run("user", "create", "ada", "--email", "not-an-address", "--password", PASSWORD)
    assert not User.objects.exists()


def test_it_refuses_an_unknown_role(run: Run) -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        run("user", "create", "ada", "--email", "a@example.test", "--role", "boss")


def test_it_lists_users_as_json(run: Run) -> None:
    make_user("ada", role=Role.ADMIN)
    make_user("bo")
    result = run("user", "list", "--json")
    assert [(u["username"], u["role"]) for u in result.json] == [("ada", "admin"), ("bo", "rep")]
    assert "password" not in result.out


def test_it_lists_users_as_a_table(run: Run) -> None:
    make_user("ada")
    assert "ada@example.test" in run("user", "list").out


def test_an_admin_deactivates_a_rep_and_their_enrollments_end(run: Run) -> None:
    admin = make_user("root", role=Role.ADMIN)
    rep = make_user("ada")
    enrollment = enrolled(rep, task_first_sequence(rep))
    result = run("user", "deactivate", "ada", "--as", "root", "--yes", "--json")
    assert result.json["enrollments_ended"] == 1
    rep.refresh_from_db()
    enrollment.refresh_from_db()
    assert not rep.is_active
    assert enrollment.status == EnrollmentStatus.UNENROLLED
    assert enrollment.reason == UnenrollReason.USER_DEACTIVATED
    assert enrollment.ended_by == admin


def test_it_refuses_deactivation_by_a_rep(run: Run) -> None:
    make_user("bo")
    rep = make_user("ada")
    with pytest.raises(CommandError, match="only a manager or an admin may deactivate users"):
        run("user", "deactivate", "ada", "--as", "bo", "--yes")
    rep.refresh_from_db()
    assert rep.is_active


def test_deactivation_asks_first_and_a_no_changes_nothing(run: Run, answer: Answer) -> None:
    make_user("root", role=Role.ADMIN)
    rep = make_user("ada")
    asked = answer("n")
    with pytest.raises(CommandError, match="cancelled"):
        run("user", "deactivate", "ada", "--as", "root")
    assert len(asked) == 1
    rep.refresh_from_db()
    assert rep.is_active


def test_deactivation_of_an_unknown_user_is_a_clear_error(run: Run) -> None:
    make_user("root", role=Role.ADMIN)
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        run("user", "deactivate", "ghost", "--as", "root", "--yes")
