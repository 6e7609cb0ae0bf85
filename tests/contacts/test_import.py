"""CSV import: good rows kept, each bad row reported with its line, nothing half-written."""

import pytest

from cadency.contacts.models import Company, Contact, ContactEmail
from cadency.contacts.services import ContactError, import_contacts

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,company,company_domain,time_zone,aliases,plan\n"


def test_it_imports_contacts_with_companies_aliases_and_custom_properties() -> None:
    report = import_contacts(
        HEADER
        + "jane@acme.test,Jane,Doe,Acme,acme.test,Europe/Paris,"
        + "j.doe@acme.test;jd@example.test,Pro\n"
        + "john@acme.test,John,Roe,Acme,acme.test,,,\n"
    )
    assert (report.created, report.updated, report.errors) == (2, 0, [])
    jane = Contact.objects.get(email="jane@acme.test")
    assert jane.company == Contact.objects.get(email="john@acme.test").company
    assert Company.objects.count() == 1
    assert jane.time_zone == "Europe/Paris"
    assert jane.properties == {"plan": "Pro"}
    assert set(jane.aliases.values_list("email", flat=True)) == {
        "j.doe@acme.test",
        "jd@example.test",
    }


def test_bad_rows_are_reported_by_line_and_the_good_ones_kept() -> None:
    report = import_contacts(
        HEADER
        + "good@acme.test,Good,,,,,,\n"
        + "not-an-address,Bad,,,,,,\n"
        + "zone@acme.test,Zone,,,,Mars/Base,,\n"
        + f"long@acme.test,{'x' * 101},,,,,,\n"
        + "extra@acme.test,Extra,,,,,,,too,many\n"
        + "also-good@acme.test,Also,,,,,,\n"
    )
    assert report.created == 2
    assert [line for line, _ in report.errors] == [3, 4, 5, 6]
    messages = " | ".join(message for _, message in report.errors)
    assert "not a valid email" in messages
    assert "Mars/Base" in messages
    assert "longer than 100" in messages
    assert "more values than columns" in messages
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "good@acme.test",
        "also-good@acme.test",
    }


def test_a_row_whose_alias_belongs_to_someone_else_writes_nothing() -> None:
    import_contacts(HEADER + "jane@acme.test,Jane,,,,,,\n")
    report = import_contacts(HEADER + "john@acme.test,John,,,,,jane@acme.test,\n")
    assert report.errors and "jane@acme.test" in report.errors[0][1]
    assert not Contact.objects.filter(email="john@acme.test").exists(), "the row is all or nothing"
    assert not ContactEmail.objects.exists()


def test_importing_again_updates_instead_of_duplicating() -> None:
    import_contacts(HEADER + "jane@acme.test,Jane,,,,,,\n")
    report = import_contacts(HEADER + "JANE@acme.test,Janet,,,,,,Enterprise\n")
    assert (report.created, report.updated) == (0, 1)
    jane = Contact.objects.get()
    assert (jane.first_name, jane.properties) == ("Janet", {"plan": "Enterprise"})


def test_a_file_without_an_email_column_is_refused() -> None:
    with pytest.raises(ContactError, match="email"):
        import_contacts("name,phone\nJane,123\n")
