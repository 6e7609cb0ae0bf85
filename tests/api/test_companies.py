"""/companies: list and search by name or domain, get."""

import pytest

from cadency.contacts.models import CompanyDomain
from tests.api.support import Api, error_of
from tests.factories import make_company, make_contact

pytestmark = pytest.mark.django_db


def test_it_lists_companies_with_domains_and_contact_counts(as_alice: Api) -> None:
    acme = make_company("Acme", "acme.test")
    CompanyDomain.objects.create(company=acme, domain="acme-corp.test")
    make_contact("jane@acme.test", company=acme)
    make_company("Beta", "beta.test")
    page = as_alice.get("/companies").json()
    assert page["count"] == 2
    first = page["items"][0]
    assert (first["name"], first["domains"], first["contact_count"]) == (
        "Acme",
        ["acme-corp.test", "acme.test"],
        1,
    )


def test_it_searches_names_and_domains(as_alice: Api) -> None:
    make_company("Acme", "acme.test")
    make_company("Beta", "beta.test")
    assert [c["name"] for c in as_alice.get("/companies", search="BETA.T").json()["items"]] == [
        "Beta"
    ]
    assert as_alice.get("/companies", search="zzz").json()["count"] == 0


def test_it_shows_one_company(as_alice: Api) -> None:
    acme = make_company("Acme", "acme.test")
    assert as_alice.get(f"/companies/{acme.pk}").json()["domains"] == ["acme.test"]


def test_an_unknown_company_is_not_found(as_alice: Api) -> None:
    error_of(as_alice.get("/companies/999"), 404, "not_found")
    error_of(as_alice.get("/contacts", company=999), 404, "not_found")


def test_a_bad_company_id_is_invalid(as_alice: Api) -> None:
    error_of(as_alice.get("/companies/abc"), 400, "invalid")
