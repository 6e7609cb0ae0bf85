import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cadency.contacts.models import Contact
from tests.cli.conftest import Fails, Run
from tests.factories import make_company, make_contact

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "email,first_name,last_name,company,company_domain,time_zone,aliases,tier\n"
    "jane@acme.test,Jane,Doe,Acme,acme.test,Europe/Paris,j.doe@acme.test,gold\n"
    "not-an-address,Bad,Row,,,,,\n"
    "john@acme.test,John,Roe,Acme,acme.test,Mars/Base,,\n"
    "kim@example.test,Kim,Lee,,,,,silver\n"
)


def write(tmp_path: Path, text: str, name: str = "contacts.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_it_keeps_good_rows_and_reports_bad_rows(fails: Fails, tmp_path: Path) -> None:
    fails(
        "contacts", "import", write(tmp_path, GOOD_AND_BAD),
        match=r"2 row\(s\) of .* were not imported; the others were kept",
    )  # fmt: skip
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "jane@acme.test",
        "kim@example.test",
    ]
    jane = Contact.objects.get(email="jane@acme.test")
    assert jane.time_zone == "Europe/Paris"
    assert jane.properties == {"tier": "gold"}
    assert [a.email for a in jane.aliases.all()] == ["j.doe@acme.test"]
    assert not Contact.objects.filter(email="john@acme.test").exists()


def test_bad_rows_are_printed_on_stderr_with_their_line(fails: Fails, tmp_path: Path) -> None:
    result = fails("contacts", "import", write(tmp_path, GOOD_AND_BAD), match="not imported")
    assert "line 3: 'not-an-address' is not a valid email address" in result.err
    assert "line 4: unknown time zone 'Mars/Base'" in result.err
    assert "2 created, 0 updated, 2 rows with errors" in result.out


def test_the_json_report_is_valid_and_on_stdout(fails: Fails, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_AND_BAD)
    report = fails("contacts", "import", path, "--json", match="not imported").json
    assert report["created"] == 2
    assert report["updated"] == 0
    assert [e["line"] for e in report["errors"]] == [3, 4]


def test_a_clean_import_exits_zero_and_updates_existing_contacts(run: Run, tmp_path: Path) -> None:
    make_contact("jane@acme.test", first_name="Janet")
    text = "Email,First_Name\njane@acme.test,Jane\nnew@acme.test,New\n"
    result = run("contacts", "import", write(tmp_path, "\ufeff" + text), "--json")
    assert result.json == {
        "file": str(tmp_path / "contacts.csv"),
        "created": 1,
        "updated": 1,
        "errors": [],
    }
    assert Contact.objects.get(email="jane@acme.test").first_name == "Jane"


def test_a_file_without_an_email_column_imports_nothing(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, "name,phone\nJane,123\n")
    with pytest.raises(CommandError, match="'email' column; nothing was imported"):
        run("contacts", "import", path)
    assert not Contact.objects.exists()


def test_a_missing_file_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        run("contacts", "import", str(tmp_path / "nope.csv"))


def test_a_file_that_is_not_utf8_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,first_name\nrene@acme.test,René\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run("contacts", "import", str(path))
    assert not Contact.objects.exists()


def test_it_lists_and_searches_contacts(run: Run) -> None:
    acme = make_company("Acme", "acme.test")
    make_contact("jane@acme.test", company=acme)
    make_contact("kim@example.test", first_name="Kim", last_name="Lee")
    assert [c["email"] for c in run("contacts", "list", "--json").json] == [
        "jane@acme.test",
        "kim@example.test",
    ]
    found = run("contacts", "list", "--search", "acme", "--json").json
    assert [(c["email"], c["company"]) for c in found] == [("jane@acme.test", "Acme")]
    assert "kim@example.test" in run("contacts", "list", "--search", "lee").out
    assert "No contacts found." in run("contacts", "list", "--search", "nobody").out


def test_the_list_says_when_it_is_cut_short(run: Run) -> None:
    for n in range(3):
        make_contact(f"c{n}@acme.test")
    result = run("contacts", "list", "--limit", "2")
    assert "Showing 2 of 3" in result.err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_is_drawn_on_stderr_at_a_terminal(tmp_path: Path) -> None:
    text = "email\n" + "".join(f"c{n}@acme.test\n" for n in range(5))
    out, err = io.StringIO(), Terminal()
    call_command("contacts", "import", write(tmp_path, text), stdout=out, stderr=err)
    assert "5/5" in err.getvalue()
    assert "5/5" not in out.getvalue()
    assert out.getvalue().strip() == "5 created, 0 updated, 0 rows with errors (not imported)."
