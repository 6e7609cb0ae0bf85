# ruff: noqa: RUF001 - texts in many languages, in their own letters
import pytest

from cadency.inbound.classification import Flag, Label
from cadency.inbound.classifier.text import fresh_text
from tests.inbound.classifier.helpers import classify, reply

# Out-of-office texts with no auto-reply header at all: only the words decide.
OUT_OF_OFFICE = {
    "en": "Thank you for your email. I am currently out of the office with limited access to "
    "email. I will respond to your message when I return. For urgent matters please contact "
    "sam@acme.test.",
    "de": "Vielen Dank für Ihre Nachricht. Ich bin derzeit nicht im Büro und habe keinen Zugriff "
    "auf meine E-Mails. Ab Montag bin ich wieder erreichbar. In dringenden Fällen wenden Sie "
    "sich bitte an sam@acme.test.",
    "fr": "Merci pour votre message. Je suis actuellement absente du bureau et serai de retour le "
    "lundi 8 mars. Pour toute urgence, contactez sam@acme.test.",
    "es": "Gracias por su mensaje. Estoy fuera de la oficina y volveré el lunes 8 de marzo. Para "
    "asuntos urgentes escriba a sam@acme.test.",
    "it": "Grazie per il suo messaggio. Sono attualmente assente dall'ufficio, rientrerò lunedì "
    "8 marzo. Per urgenze scrivere a sam@acme.test.",
    "pt": "Obrigado pela sua mensagem. Estou de férias e estarei de volta no dia 8 de março. Para "
    "assuntos urgentes fale com sam@acme.test.",
    "nl": "Bedankt voor uw bericht. Ik ben momenteel afwezig en vanaf maandag 8 maart weer "
    "bereikbaar. Voor dringende zaken kunt u terecht bij sam@acme.test.",
    "pl": "Dziękuję za wiadomość. Jestem na urlopie. W biurze będę ponownie 8 marca. W pilnych "
    "sprawach proszę pisać do sam@acme.test.",
    "ru": "Спасибо за письмо. Я в отпуске, в офисе буду 8 марта. По срочным вопросам пишите "
    "sam@acme.test.",
    "ja": "メールありがとうございます。出張のため不在にしております。"
    "3月8日以降に順次ご返信いたします。",
    "zh": "您好，我正在休假，不在办公室。我将于3月8日回来后回复您。",
    "sv": "Tack för ditt mejl. Jag är på semester och tillbaka den 8 mars.",
    "cs": "Děkuji za zprávu. Jsem mimo kancelář, opět k dispozici od 8. 3.",
    "tr": "Mesajınız için teşekkürler. Ofis dışındayım, 8 Mart'ta döneceğim.",
}


@pytest.mark.parametrize("language", sorted(OUT_OF_OFFICE))
def test_it_reads_an_out_of_office_without_headers_in(language: str) -> None:
    result = classify(reply(OUT_OF_OFFICE[language], subject="Re: Quick question"))
    assert result.label == Label.AUTO_REPLY, result.reasons
    assert any(r.startswith("text (") for r in result.reasons)


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Quick question",
        "Out of Office: Quick question",
        "Abwesenheitsnotiz: Quick question",
        "Automatische Antwort: Quick question",
        "Réponse automatique : Quick question",
        "Respuesta automática: Quick question",
        "Risposta automatica: Quick question",
        "Resposta automática: Quick question",
        "Automatisch antwoord: Quick question",
        "Odpowiedź automatyczna: Quick question",
        "Автоматический ответ: Quick question",
        "自動応答: Quick question",
        "自动回复: Quick question",
        "AUTO: Jane Doe is out of the office (returning 03/08/2027)",
        "Quick question (Automatic Response)",
    ],
)
def test_an_auto_reply_subject_is_enough(subject: str) -> None:
    assert classify(reply("Thanks.", subject=subject)).label == Label.AUTO_REPLY


def test_a_reply_to_an_auto_reply_subject_is_a_person() -> None:
    body = "Hi Ola, I'm back now - happy to talk on Thursday."
    result = classify(reply(body, subject="RE: Réponse automatique : Quick question"))
    assert result.label == Label.HUMAN_REPLY


def test_a_lotus_auto_out_of_office_is_an_auto_reply() -> None:
    text = reply(
        "I will be out of the office starting 03/03/2027 and will not return until 03/08/2027.",
        subject="AUTO: Jane Doe is out of the office (returning 03/08/2027)",
        extra="X-Mailer: Lotus Domino Release 9.0.1\n",
    )
    assert classify(text).label == Label.AUTO_REPLY


def test_left_the_company_is_an_auto_reply_flagged_for_the_rep() -> None:
    text = reply(
        "Thank you for your email. Jane Doe is no longer with Acme. Please contact "
        "sales@acme.test instead.",
        subject="Automatic reply: Quick question",
        extra="Auto-Submitted: auto-generated\n",
    )
    result = classify(text)
    assert result.label == Label.AUTO_REPLY
    assert Flag.LEFT_COMPANY in result.flags


def test_left_the_company_in_german_without_headers_is_flagged() -> None:
    text = reply(
        "Sehr geehrte Damen und Herren, Frau Doe ist nicht mehr für unser Unternehmen tätig. "
        "Ihre Nachricht wird nicht weitergeleitet. Bitte wenden Sie sich an info@acme.test.",
        subject="AW: Quick question",
    )
    result = classify(text)
    assert result.label == Label.AUTO_REPLY
    assert Flag.LEFT_COMPANY in result.flags


def test_a_mailbox_not_monitored_reply_is_flagged() -> None:
    text = reply(
        "This mailbox is no longer monitored. Please write to support@acme.test.",
        subject="RE: Quick question",
    )
    result = classify(text)
    assert result.label == Label.AUTO_REPLY
    assert Flag.MAILBOX_NOT_MONITORED in result.flags


def test_a_ticket_acknowledgement_is_an_auto_reply_flagged_as_such() -> None:
    text = reply(
        "Thanks for getting in touch. Your request (48213) has been received and a member of "
        "our support team will respond shortly.",
        subject="[Ticket #48213] Quick question",
        sender="Acme Support <support@acme.test>",
        extra="X-Mailer: Zendesk Mailer\nAuto-Submitted: auto-generated\n",
    )
    result = classify(text)
    assert result.label == Label.AUTO_REPLY
    assert Flag.TICKET_ACKNOWLEDGEMENT in result.flags


QUOTED_AUTO_REPLY = """Thanks Ola - I'm back now. Yes, let's talk on Thursday.

Jane

From: Jane Doe <jane.doe@acme.test>
Sent: Monday, March 1, 2027 9:00 AM
To: Ola Seller <ola@example.com>
Subject: Automatic reply: Quick question

I am currently out of the office with limited access to email and will return on 3 March.
This is an automatic reply.
"""


def test_it_keeps_a_human_reply_quoting_an_auto_reply_human() -> None:
    result = classify(reply(QUOTED_AUTO_REPLY))
    assert result.label == Label.HUMAN_REPLY


def test_a_human_saying_they_were_on_vacation_last_week_is_human() -> None:
    body = "Sorry for the slow answer, I was on vacation last week. Could you send the deck?"
    assert classify(reply(body)).label == Label.HUMAN_REPLY


def test_a_human_out_next_week_asking_for_a_call_after_is_human() -> None:
    body = "Timing is decent. I'm out next week (15-19 March), so let's talk after. Could you send a couple of slots?"  # noqa: E501
    assert classify(reply(body)).label == Label.HUMAN_REPLY


def test_out_of_office_question_answered_by_a_person_is_human() -> None:
    body = "Out of office? No, I'm here - yes please send the deck."
    assert classify(reply(body, subject="RE: Saw your out-of-office")).label == Label.HUMAN_REPLY


@pytest.mark.parametrize(
    "separator",
    [
        "On Mon, 1 Mar 2027 at 09:00, Ola Seller <ola@example.com> wrote:",
        "Le lun. 1 mars 2027 à 09:00, Ola Seller <ola@example.com> a écrit :",
        "Am Mo., 1. März 2027 um 09:00 Uhr schrieb Ola Seller <ola@example.com>:",
        "-----Original Message-----",
        "W dniu 1.03.2027 o 09:00, Ola Seller pisze:",
    ],
)
def test_quoted_text_is_cut(separator: str) -> None:
    text = f"Fresh words.\n\n{separator}\n> I am out of the office.\nquoted tail"
    assert fresh_text(text) == "Fresh words."


def test_quote_markers_are_dropped_but_bottom_posted_text_is_kept() -> None:
    assert fresh_text("> quoted line\n> more\n\nMy answer below.") == "My answer below."
