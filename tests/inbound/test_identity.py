"""Identify: addresses written differently, threads, own copies, companies."""

import datetime as dt

import pytest

from cadency.contacts.models import ContactEmail
from cadency.inbound.classification import Label
from cadency.inbound.identity import (
    CompanyKey,
    address_forms,
    canonical_address,
    company_key,
    find_sender,
    find_thread,
    identify,
    is_free_mail,
    registered_domain,
    same_company,
    strip_reply_prefixes,
)
from cadency.inbound.models import InboundStatus
from cadency.inbound.pipeline import process_message
from tests.factories import make_company, make_contact
from tests.inbound.support import (
    WHEN,
    classified,
    enrolled,
    our_id,
    rep,
    reply_to,
    stored,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Jane@Acme.test", "jane@acme.test"),
        ("jane+news@acme.test", "jane@acme.test"),
        ("Jane.Doe@gmail.com", "janedoe@gmail.com"),
        ("jane.doe+crm@googlemail.com", "janedoe@gmail.com"),
        ("jane.doe@outlook.com", "jane.doe@outlook.com"),  # dots matter outside Gmail
        ("+tag@acme.test", "+tag@acme.test"),  # no local part before the tag: kept
    ],
)
def test_canonical_address(written: str, canonical: str) -> None:
    assert canonical_address(written) == canonical


@pytest.mark.parametrize(
    ("written", "stored", "forms"),
    [
        ("jane@acme.test", "jane@acme.test", ()),
        ("jane@ACME.test", "jane@acme.test", ()),  # a domain's case never matters
        ("Jane@acme.test", "jane@acme.test", ("case",)),
        ("jane+news@acme.test", "jane@acme.test", ("plus_address",)),
        ("jane@acme.test", "jane+crm@acme.test", ("plus_address",)),
        ("jane.doe@gmail.com", "janedoe@gmail.com", ("gmail_dots",)),
        ("janedoe@googlemail.com", "janedoe@gmail.com", ("googlemail",)),
        ("Jane.Doe+x@googlemail.com", "janedoe@gmail.com",
         ("plus_address", "gmail_dots", "googlemail", "case")),
        ("jane.doe@acme.test", "janedoe@acme.test", None),  # dots only for Gmail
        ("john@acme.test", "jane@acme.test", None),
    ],
)  # fmt: skip
def test_address_forms_say_how_two_addresses_are_one_mailbox(
    written: str, stored: str, forms: tuple[str, ...] | None
) -> None:
    assert address_forms(written, stored) == forms


def test_reply_prefixes_in_several_languages_are_stripped() -> None:
    assert strip_reply_prefixes("RE: AW: Sv: Quick  question") == ("Quick question", True)
    assert strip_reply_prefixes("Antw: Quick question") == ("Quick question", True)
    assert strip_reply_prefixes("Quick question") == ("Quick question", False)
    assert strip_reply_prefixes("Regarding the call") == ("Regarding the call", False)


def test_registered_domains_come_from_the_public_suffix_list_offline() -> None:
    assert registered_domain("mail.acme.co.uk") == "acme.co.uk"
    assert registered_domain("eu.mail.example.com") == "example.com"
    assert registered_domain("sales.acme.test") == "acme.test"  # no public suffix: last two
    assert is_free_mail("gmail.com") and is_free_mail("outlook.com")
    assert not is_free_mail("acme.test")


def test_free_mail_never_makes_two_people_one_company() -> None:
    jane, john = company_key("jane@gmail.com", None), company_key("john@gmail.com", None)
    assert jane is None and john is None
    assert not same_company(jane, john)
    acme = CompanyKey(company_id=None, domain="acme.test", label="")
    assert same_company(acme, CompanyKey(company_id=None, domain="acme.test", label=""))
    # associated companies decide when both have one, even on a shared domain
    assert not same_company(
        CompanyKey(company_id=1, domain="acme.test", label="Acme"),
        CompanyKey(company_id=2, domain="acme.test", label="Acme Labs"),
    )


@pytest.mark.parametrize(
    ("written", "via", "how"),
    [
        ("jane.doe@gmail.com", "primary", "primary"),
        ("Jane.Doe@gmail.com", "primary", "case"),
        ("jane.doe+sales@gmail.com", "primary", "plus_address"),
        ("janedoe@gmail.com", "primary", "gmail_dots"),
        ("jane.doe@googlemail.com", "primary", "googlemail"),
        ("j.doe@acme.test", "alias", "alias"),
        ("j.doe+x@acme.test", "alias", "plus_address"),
    ],
)
def test_a_sender_is_found_by_every_form_of_their_addresses(
    written: str, via: str, how: str
) -> None:
    jane = make_contact("jane.doe@gmail.com")
    ContactEmail.objects.create(contact=jane, email="j.doe@acme.test")
    make_contact("someone.else@gmail.com")
    match = find_sender(written)
    assert match is not None
    assert (match.contact_id, match.via, match.how) == (jane.pk, via, how)


def test_a_stored_address_with_dots_or_a_tag_is_found_from_the_plain_form() -> None:
    jane = make_contact("j.a.n.e+crm@gmail.com")
    match = find_sender("jane@gmail.com")
    assert match is not None and match.contact_id == jane.pk
    assert match.forms == ("plus_address", "gmail_dots")


def test_unknown_and_deleted_senders_match_no_one() -> None:
    make_contact("jane@acme.test", deleted_at=WHEN)
    assert find_sender("jane@acme.test") is None
    assert find_sender("nobody@acme.test") is None
    assert find_sender("not an address") is None


def test_a_thread_is_matched_by_in_reply_to() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), sent_steps=2)
    message = stored(mailbox, **reply_to(enrollment, 2))
    thread = find_thread(message, None)
    assert thread is not None
    assert (thread.enrollment.id, thread.step_position, thread.how) == (
        enrollment.pk,
        2,
        "in_reply_to",
    )


def test_a_thread_is_matched_by_references_when_in_reply_to_is_not_ours() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(
        mailbox,
        in_reply_to="<colleague.1@mail.acme.test>",
        references=f"{our_id(enrollment, 1)} <colleague.1@mail.acme.test>",
    )
    thread = find_thread(message, None)
    assert thread is not None and (thread.enrollment.id, thread.how) == (
        enrollment.pk,
        "references",
    )


def test_broken_threading_falls_back_to_the_subject_from_the_contact() -> None:
    user, mailbox = rep()
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(user, jane)
    message = stored(mailbox, subject="RE: Quick question")  # no In-Reply-To, no References
    thread = find_thread(message, find_sender("jane@acme.test"))
    assert thread is not None and (thread.enrollment.id, thread.how) == (enrollment.pk, "subject")
    # not from someone else, not without "Re:", not before the enrollment started
    bob = make_contact("bob@globex.test")
    assert find_thread(message, find_sender(bob.email)) is None
    plain = stored(mailbox, subject="Quick question")
    assert find_thread(plain, find_sender(jane.email)) is None
    early = stored(mailbox, subject="Re: Quick question", date="Mon, 02 Nov 2026 09:00:00 +0000")
    assert find_thread(early, find_sender(jane.email)) is None


def test_our_own_outbound_copy_is_ignored_without_being_classified() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    copy = stored(
        mailbox,
        sender="Alice Example <alice@example.test>",
        to="jane@acme.test",
        subject="Quick question",
        message_id=our_id(enrollment, 1),
    )
    done = process_message(copy)
    assert (done.status, done.decision) == (InboundStatus.IGNORED_OWN, "ignored_own")
    assert done.label == "", "never classified"
    assert done.decision_evidence == {"own": "message_id"}
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


def test_mail_written_from_a_connected_mailbox_is_ours_too() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    forwarded = stored(mailbox, sender="alice@example.test", **reply_to(enrollment))
    assert identify(forwarded, classified()).own == "from_mailbox"


def test_identify_finds_colleagues_by_company_and_by_domain_but_not_free_mail() -> None:
    user, mailbox = rep()
    acme = make_company("Acme", "acme.test")
    jane = make_contact("jane@acme.test", company=acme)
    by_company = enrolled(user, make_contact("j.smith@acme-group.test", company=acme))
    by_domain = enrolled(user, make_contact("ops@eu.acme.test"))
    other_rep, _ = rep("bo")
    elsewhere = make_contact("cto@acme.test")
    enrolled(other_rep, elsewhere)  # sent from Bo's mailbox: not Alice's business
    message = stored(mailbox, sender=jane.email, subject="Hello")
    found = identify(message, classified())
    assert found.sender_company is not None and found.sender_company.company_id == acme.pk
    assert {c.id for c in found.colleagues} == {by_company.pk, by_domain.pk}

    gmail_jane = make_contact("jane.roe@gmail.com")
    enrolled(user, make_contact("john.roe@gmail.com"))
    free = stored(mailbox, sender=gmail_jane.email, subject="Hello")
    assert identify(free, classified()).colleagues == ()


def test_a_bounce_is_tied_to_our_message_by_the_original_message_id() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), sent_steps=2)
    report = stored(mailbox, sender="MAILER-DAEMON@mx.acme.test", subject="Undelivered Mail")
    found = identify(
        report,
        classified(
            Label.BOUNCE_HARD,
            failed=[("Jane@acme.test", "5.1.1")],
            original_message_id=our_id(enrollment, 2),
        ),
    )
    (bounce,) = found.bounces
    assert bounce.ours and bounce.enrollment is not None
    assert (bounce.address, bounce.step_position, bounce.enrollment.id) == (
        "jane@acme.test",
        2,
        enrollment.pk,
    )


def test_a_bounce_for_an_unknown_address_is_tied_to_nothing() -> None:
    user, mailbox = rep()
    enrolled(user, make_contact("jane@acme.test"))
    report = stored(mailbox, sender="MAILER-DAEMON@mx.acme.test", subject="Undelivered Mail")
    found = identify(report, classified(Label.BOUNCE_HARD, failed=[("ghost@acme.test", "5.1.1")]))
    (bounce,) = found.bounces
    assert not bounce.known


def test_the_subject_fallback_needs_the_enrollment_alive_at_the_time() -> None:
    user, mailbox = rep()
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(user, jane)
    enrollment.ended_at = WHEN - dt.timedelta(days=1)
    enrollment.status = "finished"
    enrollment.save()
    late = stored(mailbox, subject="Re: Quick question")
    assert find_thread(late, find_sender(jane.email)) is None
