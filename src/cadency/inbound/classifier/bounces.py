"""Bounces that are not (or not only) RFC 3464 reports: who sent it (MAILER-DAEMON,
postmaster, the null Return-Path), X-Failed-Recipients, the MTA's subject and its
phrasing in several languages; flufl.bounce for the failed addresses.
"""

from __future__ import annotations

import re
from email.iterators import body_line_iterator
from email.message import Message

from flufl.bounce import all_failures

from cadency.inbound.classification import FailedRecipient, Label
from cadency.inbound.classifier.headers import NO_REPLY
from cadency.inbound.classifier.parsing import Parsed
from cadency.inbound.classifier.reports import (
    MAILBOX_FULL,
    STATUS,
    classify_delivery_status,
    delivery_status_from_text,
    original_message_id,
)
from cadency.inbound.classifier.verdict import Verdict

MTA_SENDER = re.compile(
    r"^(?:mailer-daemon|mail-daemon|maildaemon|postmaster|mailerdaemon|mail\.?delivery|"
    r"mdaemon|mailer|nobody|bounces?|returns?|mail-?admin|smtp)(?:[+=.-][^@]*)?@",
    re.I,
)
MTA_DISPLAY = re.compile(
    r"mail delivery (?:system|subsystem|service)|mailer[- ]daemon|postmaster|"
    r"mail administrator|delivery status|microsoft outlook|mail ?system|"
    r"システム管理者|почтовая служба",
    re.I,
)
_FORWARD = re.compile(r"^\s*(?:fwd?|wg|tr|rv|doorst|vs|enc)\s*:", re.I)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status notification|mail delivery (?:failed|failure|problem)|"
    r"returned mail|return(?:ed)? to sender|failure notice|delivery failure|non[- ]?deliver|"
    r"delivery (?:has )?failed|failed delivery|message (?:not delivered|undeliverable)|"
    r"could not send|delivery notification|warning: could not send|delayed mail|delivery delayed|"
    r"mail delivery delayed|delivery (?:status|report)|not delivered|mail system error|"
    r"unzustellbar|nicht zustellbar|non remis|non distribuable|échec de (?:la )?(?:remise|"
    r"distribution)|"
    r"no entregado|onbestelbaar|não entregue|non recapitato|niedostarczon|"
    r"не доставлен|ошибка доставки|недоставлен|配信不能|配送エラー|送信エラー|"
    r"error sending message|エラー通知|メールエラー|"
    r"error notification|mail failed|bounced? (?:mail|"
    r"message|notification)",
    re.I,
)
DELAY_TEXT = re.compile(
    r"(?:has|have) been delayed|is delayed|delivery (?:has been |is )?delayed|delayed mail|"
    r"still (?:being )?(?:retried|trying|attempting)|will (?:be )?retr(?:y|ied)|will keep trying|"
    r"will continue (?:trying|to try|attempting)|not yet been delivered|"
    r"only a (?:temporary failure |)"
    r"(?:warning|temporary failure report)|could not send message for past|"
    r"no action is required on your part|will try again",
    re.I,
)
GAVE_UP = re.compile(
    r"gave up|giving up|failed permanently|permanent(?:ly)? (?:error|failure|fatal)|"
    r"retry time(?:out)? (?:exceeded|expired)|deleted from (?:the )?queue|"
    r"could not be delivered for too long|cannot send message for \d+ days|message expired|"
    r"has been returned|will not be delivered|not be retried|returning (?:message )?to sender",
    re.I,
)
TEMPORARY_CAUSE = re.compile(
    r"retry time(?:out)? (?:exceeded|expired)|could not be delivered for too long|"
    r"cannot send message for|message expired|timed? ?out|connection (?:refused|timed|reset)|"
    r"host not reachable|unable to connect|socket error|temporar(?:y|ily) (?:failure|error|"
    r"unavailable)|"
    r"no route to host|deferred",
    re.I,
)
HARD_TEXT = re.compile(
    r"user unknown|unknown (?:user|recipient|address|local part|mailbox)|no such (?:user|recipient|"
    r"mailbox|address|domain|person)|(?:does not|doesn't|did not) exist|"
    r"doesn't have an? [\w.-]+ account|not (?:a )?valid (?:user|recipient|address|mailbox)|"
    r"invalid (?:recipient|address|mailbox|user)|address (?:rejected|not found|unknown|invalid)|"
    r"recipient (?:rejected|not found|unknown|address rejected)|no mailbox here|mailbox "
    r"(?:unavailable|not found|does not exist|disabled|is disabled|inactive)|"
    r"not listed in|is not recognized|isn't recognized|couldn't be found|could not be found|"
    r"(?:account|mailbox) (?:has been |is )?(?:disabled|deactivated|suspended|closed|terminated)|"
    r"deactivated mailbox|no account by that name|no longer (?:on server|active|valid)|"
    r"host unknown|unknown host|domain (?:not found|does not exist|unknown)|"
    r"name not found|nxdomain|unrouteable|unroutable|bad destination|inactive (?:e-?mail )?address|"
    r"user not found|recipnotfound|recipientnotfound|adresse.{0,30}invalide|unbekannt|"
    r"existiert nicht|gibt es nicht|nicht (?:vorhanden|gefunden)|konto niedost|n'existe pas|"
    r"inconnu|no existe|non esiste|не существует|нет такого|не найден|存在しません|"
    r"宛先不明|見つかりません|ありません|invalid mailbox",
    re.I,
)
FAILURE_TEXT = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|undeliverable|"
    r"delivery to the following (?:recipients?|address(?:es)?) failed|"
    r"(?:following|these) (?:address(?:es)?|recipients?) (?:failed|had permanent fatal errors)|"
    r"permanent(?:ly)? (?:error|failure|fatal)|failed permanently|delivery has failed|"
    r"message (?:was )?rejected|returned to sender|unable to deliver|failure notice|"
    r"could not deliver|not be delivered|delivery failed|had (?:permanent )?(?:fatal |delivery )?"
    r"(?:errors|problems)|"
    r"nicht zugestellt|n'a pas pu être (?:remis|distribué)|no se ha podido entregar|"
    r"не (?:может быть |удалось )?доставить|не доставлено|"
    r"配信できませんでした|送信できませんでした",
    re.I,
)
PHRASE_WINDOW = 8000  # the MTA's explanation comes first; the returned message follows
SMTP_CODE = re.compile(r"\b([45])[0-9]{2}(?:[ -]|$)", re.M)
# The local part is bounded (RFC 5321: 64 octets) and starts after a non-address
# character: unbounded, a long run of word characters without "@" made findall
# quadratic (a 60 KB header took 30 s).
_ADDRESS = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]+(?:\.[\w-]+)+", re.U
)
_LINE_ADDRESS = re.compile(
    r"^\s*<?([\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]+(?:\.[\w-]+)+)>?\s*:?\s*$", re.M
)


def looks_like_bounce(parsed: Parsed) -> str | None:
    """The reason a message looks like an MTA's bounce, or None."""
    if parsed.has("x-failed-recipients"):
        return f"header X-Failed-Recipients: {parsed.header('x-failed-recipients')[:80]}"
    subject = parsed.subject
    if _FORWARD.match(subject):
        return None
    sender = parsed.from_address
    if sender and MTA_SENDER.match(sender):
        return f"sender {sender} is a mail system"
    subject_hit = BOUNCE_SUBJECT.search(subject)
    if subject_hit and (
        parsed.return_path == ""
        or MTA_DISPLAY.search(parsed.from_display)
        or not sender
        or parsed.header("auto-submitted").lower().startswith("auto-")
        or NO_REPLY.search(sender)
    ):
        return f"subject '{subject[:60]}' from a mail system"
    if parsed.return_path == "" and (not sender or MTA_DISPLAY.search(parsed.from_display)):
        return "null Return-Path and no personal sender"
    if subject_hit and not parsed.has("in-reply-to") and parsed.attached_messages:
        return f"subject '{subject[:60]}' with the returned message attached"
    return None


# RFC 5322 caps a line at 998 characters. flufl.bounce's patterns take quadratic
# time on longer lines (60 KB: 13 s), and no MTA writes its report that way.
MAX_LINE = 998


def _flufl_failures(message: Message) -> tuple[set[str], set[str]]:
    if any(len(line) > MAX_LINE for line in body_line_iterator(message)):
        return set(), set()
    try:
        temporary, permanent = all_failures(message)
    except Exception:
        return set(), set()

    def text(values: frozenset[bytes]) -> set[str]:
        return {
            (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)).strip("<> ").lower()
            for v in values
            if v
        }

    return text(temporary), text(permanent)


def _status_near(text: str, address: str) -> str:
    index = text.lower().find(address)
    window = text[index : index + 600] if index >= 0 else ""
    found = STATUS.search(window) or STATUS.search(text)
    return ".".join(found.groups()) if found else ""


def classify(parsed: Parsed) -> Verdict | None:
    why = looks_like_bounce(parsed)
    if why is None:
        return None
    text = parsed.body_text
    if not text.strip():
        text = parsed.all_text
    if "final-recipient:" in text.lower():  # a report whose MIME structure was lost
        report = delivery_status_from_text(
            text[max(0, text.lower().find("final-recipient:") - 500) :]
        )
        if report.recipients:
            verdict = classify_delivery_status(parsed, report)
            if verdict is not None:
                verdict.reasons.insert(0, why)
                verdict.reasons.append("(delivery-status fields read from the text)")
                return verdict
    text = f"{parsed.subject}\n{text[:PHRASE_WINDOW]}"
    reasons = [why]
    statuses = [".".join(m.groups()) for m in STATUS.finditer(text[:20_000])]
    hard_hit = HARD_TEXT.search(text)
    full_hit = MAILBOX_FULL.search(text)
    failure_hit = FAILURE_TEXT.search(text)
    delay_hit = DELAY_TEXT.search(text)
    gave_up = GAVE_UP.search(text)
    has_x_failed = parsed.has("x-failed-recipients")
    five = [s for s in statuses if s.startswith("5.")]
    four = [s for s in statuses if s.startswith("4.")]

    if delay_hit and not gave_up and not (hard_hit and five) and not has_x_failed:
        label = Label.DELAY
        reasons.append(f"text: '{delay_hit.group(0)}' (still retrying)")
        action = "delayed"
    elif full_hit or "5.2.2" in statuses:
        label = Label.BOUNCE_SOFT
        reasons.append(f"text: '{full_hit.group(0) if full_hit else '5.2.2'}' (mailbox full)")
        action = "failed"
    elif hard_hit:
        label = Label.BOUNCE_HARD
        reasons.append(f"text: '{hard_hit.group(0)}'")
        action = "failed"
    elif (four and not five) or (TEMPORARY_CAUSE.search(text) and not five):
        label = Label.BOUNCE_SOFT
        cause = TEMPORARY_CAUSE.search(text)
        reasons.append(
            f"text: '{cause.group(0)}' (temporary failure, sender gave up)"
            if cause
            else f"status {four[0]} (temporary failure, sender gave up)"
        )
        action = "failed"
    elif five or failure_hit or has_x_failed or SMTP_CODE.search(text):
        label = Label.BOUNCE_HARD
        reasons.append(
            f"status {five[0]}"
            if five
            else f"text: '{failure_hit.group(0)}'"
            if failure_hit
            else "permanent failure"
        )
        action = "failed"
    else:
        return None

    recipients = _failed_addresses(parsed, text, label)
    failed = [
        FailedRecipient(address=a, status=_status_near(text, a), action=action) for a in recipients
    ]
    confidence = 0.95 if has_x_failed or MTA_SENDER.match(parsed.from_address or "") else 0.9
    return Verdict(
        label, confidence, reasons, failed, original_message_id=original_message_id(parsed)
    )


def _own_addresses(parsed: Parsed) -> set[str]:
    own = {parsed.from_address}
    for name in ("to", "cc", "delivered-to", "x-original-to", "return-path", "sender"):
        own.update(a.lower() for a in _ADDRESS.findall(" ".join(parsed.headers.get(name, []))))
    return own


def _failed_addresses(parsed: Parsed, text: str, label: Label) -> list[str]:
    found: list[str] = []

    def add(address: str) -> None:
        address = address.strip("<>.,;: ").lower()
        if address and address not in found and not MTA_SENDER.match(address):
            found.append(address)

    for value in parsed.headers.get("x-failed-recipients", []):
        for address in _ADDRESS.findall(value):
            add(address)
    own = _own_addresses(parsed) if not found else set()
    if not found:  # "<user@host>:" lines, as Postfix, qmail and Exim write them
        for address in _LINE_ADDRESS.findall(text[:20_000]):
            if address.lower() not in own:
                add(address)
    if not found:  # an address on the line that says what failed
        for line in text.splitlines()[:200]:
            if "@" in line and (
                HARD_TEXT.search(line) or FAILURE_TEXT.search(line) or MAILBOX_FULL.search(line)
            ):
                for address in _ADDRESS.findall(line):
                    if address.lower() not in own:
                        add(address)
    if not found:  # flufl.bounce knows many MTAs' formats (slower, so later)
        temporary, permanent = _flufl_failures(parsed.message)
        for address in sorted(permanent) + sorted(temporary):
            if "@" in address:
                add(address)
    if not found:  # last resort: an address near the top that is not ours
        for address in _ADDRESS.findall(text[:3000])[:10]:
            if address.lower() not in own:
                add(address)
    return found
