"""The companies list and a company's record: domains, contacts and their enrollments."""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Company, CompanyDomain
from cadency.sequences.models import Sequence, UnenrollReason
from cadency.sequences.services.enrollment import unenroll
from tests.contacts.support import enrolled, signed_in
from tests.factories import make_company, make_contact

pytestmark = pytest.mark.django_db


def text_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def company_links(page: str) -> list[str]:
    return re.findall(r'href="/companies/(\d+)/"', page)


@pytest.mark.parametrize("path", ["/companies/", "/companies/1/"])
def test_company_pages_send_a_signed_out_visitor_to_the_login_page(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_list_shows_domains_and_counts_of_contacts_and_enrollments(
    alice: User, sequence: Sequence
) -> None:
    acme = make_company("Acme", "acme.test")
    CompanyDomain.objects.create(company=acme, domain="acme-mail.test")
    jane = make_contact("jane@acme.test", company=acme)
    make_contact("sam@acme.test", company=acme)
    make_contact("gone@acme.test", company=acme, deleted_at=timezone.now())
    make_company("Globex", "globex.test")
    enrolled(jane, sequence, alice)
    page = text_of(signed_in(alice).get("/companies/"))
    row = page[page.index(f'href="/companies/{acme.pk}/"') :].split("</tr>")[0]
    assert "acme.test" in row and "acme-mail.test" in row
    assert re.search(r"<td[^>]*>\s*2\s*</td>", row), "deleted contacts are not counted"
    assert re.search(r"<td[^>]*>\s*1\s*</td>", row), "one contact enrolled"
    assert "Globex" in page


def test_search_matches_the_name_or_a_domain(alice: User) -> None:
    acme = make_company("Acme", "acme.test")
    globex = make_company("Globex", "globex.test")
    client = signed_in(alice)
    assert company_links(text_of(client.get("/companies/", {"q": "acm"}))) == [str(acme.pk)]
    by_domain = text_of(client.get("/companies/", {"q": "globex.test"}))
    assert company_links(by_domain) == [str(globex.pk)]
    assert company_links(text_of(client.get("/companies/", {"q": "initech"}))) == []


def test_the_list_is_paginated(alice: User) -> None:
    for n in range(53):
        make_company(f"Company {n:02d}", f"c{n:02d}.test")
    client = signed_in(alice)
    assert len(company_links(text_of(client.get("/companies/")))) == 50
    second = text_of(client.get("/companies/", {"page": 2}))
    assert len(company_links(second)) == 3 and "Page 2 of 2" in second


def test_the_list_costs_the_same_number_of_queries_for_5_or_50_companies(
    alice: User, django_assert_max_num_queries: Any
) -> None:
    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            company = make_company(f"Company {n:02d}", f"c{n:02d}.test")
            make_contact(f"p@c{n:02d}.test", company=company)

    client = signed_in(alice)
    add(5, 0)
    with CaptureQueriesContext(connection) as small:
        text_of(client.get("/companies/"))
    add(45, 5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(company_links(text_of(client.get("/companies/")))) == 50


def test_the_record_shows_domains_contacts_and_their_enrollments(
    alice: User, bob: User, sequence: Sequence
) -> None:
    acme = make_company("Acme", "acme.test")
    CompanyDomain.objects.create(company=acme, domain="acme.example")
    jane = make_contact("jane@acme.test", company=acme)
    sam = make_contact("sam@acme.test", first_name="Sam", last_name="Stone", company=acme)
    make_contact("outsider@globex.test", first_name="Olga", last_name="Outsider")
    enrolled(jane, sequence, alice)
    unenroll(
        enrollment=enrolled(sam, sequence, bob),
        reason=UnenrollReason.COMPANY_REPLIED,
        sentence="Jane Doe of the same company replied.",
    )
    page = text_of(signed_in(alice).get(f"/companies/{acme.pk}/"))
    assert "<h1>Acme" in page
    assert "acme.test" in page and "acme.example" in page
    assert f'href="/contacts/{jane.pk}/"' in page and f'href="/contacts/{sam.pk}/"' in page
    assert "Olga" not in page
    assert '<span class="badge active">Active</span>' in page
    assert '<span class="badge unenrolled">Unenrolled</span>' in page
    assert "<code>company_replied</code>" in page
    assert "Jane Doe of the same company replied." in page
    assert f'href="/sequences/{sequence.pk}/">Intro</a>' in page


def test_the_record_links_to_the_filtered_contacts_list(alice: User) -> None:
    acme = make_company("Acme", "acme.test")
    page = text_of(signed_in(alice).get(f"/companies/{acme.pk}/"))
    assert f'href="/contacts/?company={acme.pk}"' in page


def test_an_unknown_company_is_not_found(alice: User) -> None:
    assert signed_in(alice).get("/companies/999999/").status_code == 404


def test_html_in_a_company_name_is_escaped(alice: User) -> None:
    company = Company.objects.create(name="<img src=x onerror=alert(1)>")
    client = signed_in(alice)
    for path in ["/companies/", f"/companies/{company.pk}/"]:
        page = text_of(client.get(path))
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
