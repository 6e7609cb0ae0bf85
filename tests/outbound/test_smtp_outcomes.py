"""What an SMTP refusal means: the contact's address, the sender's problem, or later (SPEC §8)."""

import pytest

from cadency.outbound.smtp_send import SendStatus, classify_refusal


@pytest.mark.parametrize(
    ("code", "text", "status"),
    [
        (
            550,
            "5.1.1 <jane@acme.test>: Recipient address rejected: User unknown",
            "recipient_rejected",
        ),
        (550, "5.1.10 RESOLVER.ADR.RecipientNotFound", "recipient_rejected"),
        (553, "sorry, that domain isn't in my list of allowed rcpthosts", "recipient_rejected"),
        (552, "5.2.2 Mailbox full", "temporary"),
        (452, "4.2.2 Over quota", "temporary"),
        (450, "4.7.1 Greylisted, try again later", "temporary"),
        (421, "Service not available", "temporary"),
        (550, "5.7.1 Message rejected due to sender reputation", "policy_blocked"),
        (554, "5.7.26 Unauthenticated email is not accepted (DMARC)", "policy_blocked"),
    ],
)
def test_each_refusal_is_classified_by_its_enhanced_status(
    code: int, text: str, status: str
) -> None:
    outcome = classify_refusal(code, text)
    assert outcome.status == SendStatus(status)
    assert outcome.code == code
    assert str(code) in outcome.detail


def test_the_enhanced_status_is_kept_as_evidence() -> None:
    assert classify_refusal(550, "5.1.1 User unknown").enhanced_status == "5.1.1"
    assert classify_refusal(550, "no such user").enhanced_status == ""
