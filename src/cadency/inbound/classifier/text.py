# ruff: noqa: RUF001 - words of many languages, in their own letters
"""The words of the message: auto-reply subjects and out-of-office, left-the-company,
mailbox-not-monitored and ticket-acknowledgement phrasing in many languages.

Only the *fresh* text counts: quoted text (``>`` lines, "On … wrote:", Outlook's
"From: … Sent: …" block and their translations) is cut first, so a person who
quotes an auto-reply, or mentions a holiday in passing, stays a person.

To add a language: add its phrases to the tables below (each entry is
``(language, weight, regex)``), and a test in ``tests/inbound/classifier/test_text.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cadency.inbound.classification import Flag
from cadency.inbound.classifier.parsing import Parsed

# ---------------------------------------------------------------- quoted text

_QUOTE_HEADERS = re.compile(
    r"^[ \t]*(?:"
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original|"
    r"messaggio originale|mensagem original|oorspronkelijk bericht|wiadomość oryginalna|"
    r"исходное сообщение|пересылаемое сообщение|forwarded message|weitergeleitete nachricht|"
    r"message transféré|original message|原始邮件|元のメッセージ)\s*-{2,}"
    r"|_{10,}"
    r"|begin forwarded message:"
    r"|(?:from|von|de|van|da|od|от|差出人|发件人|寄件者)\s*:.{0,200}\n[ \t]*(?:sent|gesendet|"
    r"envoyé|enviado|verzonden|inviato|wysłano|отправлено|送信日時|发送时间|date|datum|data|fecha)\s*:"
    r"|(?:on|le|am|el|il|em|op|w dniu|dne|den|в)\b[^\n]{0,200}?(?:\n[^\n]{0,200}?)?"
    r"(?:wrote|a écrit|schrieb|escribió|ha scritto|escreveu|schreef|pisze|napsal|skrev|написал)"
    r"[^\n]{0,40}:"
    r"|[^\n]{0,120}(?:написал\(а\)|のメッセージ|wrote)\s*:\s*$"
    r")",
    re.I | re.M,
)
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
SAMPLE = 3000  # characters of fresh text read: auto-replies say it early
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.M)


def fresh_text(text: str) -> str:
    """The part of the body its sender wrote: quoted replies and forwards removed."""
    match = _QUOTE_HEADERS.search(text)
    if match:
        text = text[: match.start()]
    return _QUOTED_LINE.sub("", text).strip()


def one_line(text: str) -> str:
    """Whitespace (line wraps included) collapsed, so phrases match across lines."""
    return _SPACES.sub(" ", text)


# ---------------------------------------------------------------- subjects

_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|vs|odp|ynt|antw|antwort|réf|rif|r|ha)\s*:", re.I)
AUTO_SUBJECT = re.compile(
    r"^\s*\[?\s*(?:"
    r"auto(?:matic|mated)?[ -]?(?:reply|response|answer)|autoreply|autoresponse|auto\s*:|"
    r"out of (?:the )?office|ooo\b|away from (?:the )?office|on vacation|vacation reply|"
    r"automatische antwort|abwesenheitsnotiz|abwesenheit|nicht im büro|"
    r"réponse automatique|absence du bureau|message d'absence|absent du bureau|"
    r"respuesta automática|respuesta automatica|fuera de la oficina|fuera de oficina|"
    r"risposta automatica|fuori ufficio|assenza per ferie|cierre por vacaciones|"
    r"resposta automática|resposta automatica|fora do escritório|ausência|"
    r"automatisch antwoord|afwezig|niet aanwezig|buiten kantoor|"
    r"odpowiedź automatyczna|automatyczna odpowied[źz]|nieobecność|"
    r"автоматический ответ|автоответ|нет на месте|вне офиса|"
    r"automatiskt svar|frånvaro|automatisk svar|automaattinen vastaus|"
    r"automatická odpověď|nepřítomnost|otomatik yanıt|otomatik cevap|ofis dışında|"
    r"automatikus válasz|răspuns automat|자동 응답|"
    r"自動応答|自動返信|自動回覆|自动回复|自动答复|不在のお知らせ|不在通知|"
    r"ticket received|request received"
    r")",
    re.I,
)
AUTO_SUBJECT_SUFFIX = re.compile(
    r"\((?:automatic|auto) (?:response|reply)\)\s*$|\bis out of (?:the )?office\b", re.I
)
TICKET_SUBJECT = re.compile(
    r"\[(?:ticket|case|request|incident)\s*#?\s*[\w-]+\]|\bticket\s*#\s*\d+|"
    r"\b(?:request|ticket|case)\s*\(?#?\d+\)?\s*has been (?:received|created|logged)|"
    r"\bhas been received\b",
    re.I,
)


def auto_subject(subject: str) -> str | None:
    """The auto-reply marker of a subject, or None. 'RE: Automatic reply: …' is a person."""
    if _REPLY_PREFIX.match(subject):
        return None
    match = AUTO_SUBJECT.match(subject) or AUTO_SUBJECT_SUFFIX.search(subject)
    return match.group(0).strip(" [") if match else None


def ticket_subject(subject: str) -> str | None:
    if _REPLY_PREFIX.match(subject):
        return None
    match = TICKET_SUBJECT.search(subject)
    return match.group(0) if match else None


# ---------------------------------------------------------------- body phrases

Phrase = tuple[str, int, str]  # language, weight, regex

AUTO_MARKERS: list[Phrase] = [
    (
        "en",
        3,
        r"this is an? (?:automatic|automated|auto-?generated)(?: reply| response| message"
        r"| notification| acknowledge?ment| e-?mail)?|automatic(?:ally generated)? (?:reply|"
        r"response)|"
        r"\bauto-?reply\b|one-time automated message|do not reply to this (?:e-?mail|message)",
    ),
    (
        "de",
        3,
        r"automatische antwort|automatisch (?:generiert|erstellt)e? (?:nachricht|e-?mail|antwort)"
        r"|dies ist eine automatische",
    ),
    ("fr", 3, r"réponse automatique|message automatique|ceci est un message automatique"),
    ("es", 3, r"respuesta automática|mensaje automático|este es un mensaje automático"),
    ("it", 3, r"risposta automatica|messaggio automatico"),
    ("pt", 3, r"resposta automática|mensagem automática"),
    ("nl", 3, r"automatisch (?:antwoord|bericht|gegenereerd)"),
    ("pl", 3, r"automatyczn[aey] (?:odpowied[źz]|wiadomo[śs][ćc])|odpowied[źz] automatyczn"),
    ("ru", 3, r"автоматическ(?:ий|ое) (?:ответ|сообщение)|автоответ"),
    ("ja", 3, r"自動応答|自動返信|自動送信|自動配信"),
    ("zh", 3, r"自动回复|自动答复|自動回覆"),
    ("sv", 3, r"automatiskt svar|automatiskt meddelande"),
    ("cs", 3, r"automatická odpověď|automatická zpráva"),
    ("tr", 3, r"otomatik (?:yanıt|cevap|mesaj)"),
]

OUT_OF_OFFICE: list[Phrase] = [
    # English
    (
        "en",
        2,
        r"\bi(?:'m| am| will be| shall be)(?: currently| now)? (?:out of (?:the )?office|away"
        r"(?: from (?:the |my )?(?:office|desk|email))?|on (?:annual |parental |maternity |"
        r"paternity "
        r"|sick |study )?(?:leave|vacation|holiday)|travell?ing|at a conference|attending|off work|"
        r"out (?:until|till|through|on)|unavailable|not in the office|away until)",
    ),
    (
        "en",
        2,
        r"\b(?:is|are) (?:currently )?(?:out of (?:the )?office|away from the office|"
        r"on (?:annual |parental |maternity |paternity )?(?:leave|vacation|holiday) (?:until|"
        r"from|and)|"
        r"out of the office)",
    ),
    ("en", 2, r"(?:limited|no|intermittent|restricted) access to (?:my )?e-?mails?"),
    (
        "en",
        2,
        r"(?:respond|reply|answer|get back to you|attend to|read)(?: to)?(?: your| it| my| all)?"
        r"(?: e-?mails?| message| messages)?(?: as soon as possible)?"
        r" (?:when i(?:'m| am)? (?:back|return)|upon my return|on my return|after my return|"
        r"once i(?:'m| am) back|when i get back|then)",
    ),
    (
        "en",
        1,
        r"\b(?:back|return(?:ing)?|returns) (?:in|to) the office|back at my desk|"
        r"\bi(?:'ll| will) (?:be )?(?:back|return)|returning (?:on|to)|\bback on\b|"
        r"\bduring my absence|\bin my absence|while i(?:'m| am) (?:away|out)",
    ),
    (
        "en",
        1,
        r"for (?:urgent|immediate) (?:matters|requests|issues|enquiries|inquiries|assistance|"
        r"questions)|if (?:your (?:message|matter|request) is|this is|it is) urgent|please contact",
    ),
    (
        "en",
        1,
        r"thank(?:s| you) for (?:your|you) (?:e-?mail|message|note)|"
        r"thanks for getting in touch",
    ),
    ("en", 1, r"(?:reply|respond|get back to you) (?:to you )?as soon as (?:possible|i can)"),
    # German
    (
        "de",
        2,
        r"(?:bin ich|ich bin)(?: derzeit| zurzeit| momentan| leider)? (?:nicht im büro|"
        r"außer haus|ausser haus|abwesend|im urlaub|in elternzeit|nicht erreichbar|unterwegs|"
        r"auf (?:einer )?(?:messe|dienstreise|geschäftsreise))|"
        r"\bist (?:derzeit )?(?:außer haus|abwesend)",
    ),
    (
        "de",
        2,
        r"(?:keinen|eingeschränkten) zugriff auf (?:meine )?e-?mails|eingeschränkt erreichbar|"
        r"(?:nachricht|e-?mail) wird nicht weitergeleitet",
    ),
    (
        "de",
        1,
        r"wieder (?:erreichbar|im büro|für sie da|zurück|da)|zurück am|kehre .{0,30}zurück|"
        r"in dringenden fällen|vielen dank für ihre (?:nachricht|e-?mail)|im urlaub",
    ),
    # French
    (
        "fr",
        2,
        r"je suis (?:actuellement )?(?:absente?|en congés?|en vacances|en déplacement|"
        r"hors du bureau)|absente? du bureau|accès limité à (?:mes )?(?:e-?mails|courriels|"
        r"messagerie)",
    ),
    (
        "fr",
        1,
        r"de retour le|serai de retour|pour toute urgence|en cas d'urgence|"
        r"merci (?:pour|de) votre (?:message|e-?mail|courriel)|pendant mon absence",
    ),
    # Spanish
    (
        "es",
        2,
        r"estoy (?:de vacaciones|fuera de la oficina|ausente|fuera)|fuera de la oficina|"
        r"acceso limitado al correo|cerrad[oa]s? por vacaciones|"
        r"(?:permanecer[áa]n?|estar[áa]n?) cerrad[oa]s",
    ),
    (
        "es",
        1,
        r"de vuelta el|volver[ée]|regresar[ée]|estar[ée] de regreso|volvemos|"
        r"para (?:asuntos|temas) urgentes|gracias por su (?:mensaje|correo)|durante mi ausencia|"
        r"a (?:mi|nuestro) regreso|será atendido",
    ),
    # Italian
    (
        "it",
        2,
        r"sono (?:attualmente )?(?:assente|fuori ufficio|in ferie)|fuori ufficio|"
        r"assenza per ferie",
    ),
    (
        "it",
        1,
        r"rientrer[òo]|rientro in ufficio|sar[òo] di ritorno|per urgenze|"
        r"grazie per (?:il suo|la sua|il tuo|la tua) (?:messaggio|e-?mail)|durante la mia assenza",
    ),
    # Portuguese
    (
        "pt",
        2,
        r"estou (?:de férias|ausente|fora do escritório|em licença)|fora do escritório|"
        r"licença[- ]maternidade|licença[- ]paternidade",
    ),
    (
        "pt",
        1,
        r"retorno (?:no dia|em)|estarei de volta|voltarei|para assuntos urgentes|"
        r"obrigad[oa] pela sua mensagem|durante a minha ausência",
    ),
    # Dutch
    (
        "nl",
        2,
        r"(?:ben|is) (?:momenteel |op dit moment )?(?:afwezig|niet op kantoor|met vakantie|"
        r"op vakantie|buiten kantoor)",
    ),
    (
        "nl",
        1,
        r"weer (?:aanwezig|bereikbaar|op kantoor|terug)|ben ik terug|voor dringende zaken|"
        r"bedankt voor uw (?:bericht|e-?mail)",
    ),
    # Polish
    (
        "pl",
        2,
        r"jestem (?:poza biurem|nieobecn[ya]|na urlopie)|poza biurem|"
        r"w biurze będę|będę ponownie",
    ),
    (
        "pl",
        1,
        r"wracam|będę dostępn|w pilnych sprawach|dziękuję za (?:wiadomość|e-?mail)|"
        r"nieobecno[śs]ć",
    ),
    # Russian
    (
        "ru",
        2,
        r"(?:меня )?нет в офисе|вне офиса|(?:я )?(?:нахожусь )?в (?:отпуске|командировке)|"
        r"отсутствую|в офисе буду",
    ),
    ("ru", 1, r"вернусь|буду в офисе|по срочным вопросам|спасибо за (?:ваше )?письмо"),
    # Japanese
    ("ja", 2, r"不在にしております|不在です|休暇|出張(?:中|のため)|外出(?:中|しております)"),
    ("ja", 1, r"以降(?:に|、)?(?:順次)?(?:ご)?(?:返信|対応|連絡)|戻ります|不在"),
    # Chinese
    ("zh", 2, r"不在办公室|休假|出差|放假"),
    ("zh", 1, r"回复您|返回|回来"),
    # Swedish, Czech, Turkish
    (
        "sv",
        2,
        r"(?:är|befinner mig) (?:på semester|ledig|tjänstledig|föräldraledig|inte på kontoret)|"
        r"frånvarande|föräldraledig",
    ),
    ("sv", 1, r"tillbaka|till och med|tack för (?:ditt|ert) (?:mejl|meddelande|e-?post)"),
    ("cs", 2, r"(?:jsem|budu) (?:mimo kancelář|na dovolené|nepřítomn)|mimo kancelář"),
    ("cs", 1, r"opět k dispozici|zpět|děkuji za (?:zprávu|váš e-?mail|e-?mail)"),
    ("tr", 2, r"ofis dışındayım|ofis dışında|izindeyim|izinde"),
    ("tr", 1, r"döneceğim|ofiste olacağım|ofisteyim|mesajınız için teşekkür"),
]

LEFT_COMPANY: list[Phrase] = [
    (
        "en",
        3,
        r"\b(?:is|am|are) no longer (?:with|at|employed|working|part of)|"
        r"\b(?:has|have) left (?:the company|the organi[sz]ation|the firm|[A-Z]\w+)|"
        r"no longer works? (?:for|at|with)|\bi have left\b",
    ),
    (
        "de",
        3,
        r"nicht mehr (?:bei|für|im unternehmen|tätig|beschäftigt|im hause)|"
        r"(?:hat|haben) (?:das unternehmen|uns|die firma) verlassen|ausgeschieden",
    ),
    (
        "fr",
        3,
        r"ne fait plus partie|a quitté (?:la société|l'entreprise|le groupe)|"
        r"n'est plus (?:en poste|chez|au sein|employée?)",
    ),
    ("es", 3, r"ya no (?:trabaja|forma parte|está en la empresa|pertenece)"),
    ("it", 3, r"non (?:lavora|fa) più (?:per|presso|parte)"),
    ("pt", 3, r"não (?:trabalha|faz parte) mais|não faz mais parte|deixou a empresa"),
    ("nl", 3, r"niet (?:meer )?(?:werkzaam|in dienst)|is uit dienst"),
    ("pl", 3, r"nie pracuje już|już nie pracuje"),
    ("ru", 3, r"больше не работает|уволил(?:ся|ась)"),
    ("ja", 3, r"退職いたしました|退職しました|退社いたしました"),
    ("zh", 3, r"已离职|已經離職"),
]

NOT_MONITORED: list[Phrase] = [
    (
        "en",
        3,
        r"(?:mailbox|inbox|address|account|e-?mail)(?: address)? (?:is|was) (?:no longer|not) "
        r"(?:being )?(?:monitored|in use|active|checked|read)|no longer (?:in use|monitored)|"
        r"\bunmonitored\b|not (?:being )?monitored",
    ),
    (
        "de",
        3,
        r"wird nicht (?:mehr )?(?:gelesen|überwacht|abgerufen|genutzt)|nicht mehr (?:aktiv|in "
        r"benutzung)|zuk(?:ü|ue)nftig",
    ),
    ("fr", 3, r"n'est (?:plus|pas) (?:consultée?|utilisée?|active|surveillée?)"),
    (
        "es",
        3,
        r"no (?:es|está) (?:monitoreado|supervisado|vigilado)|ya no (?:se usa|está en uso|"
        r"está activa)",
    ),
    ("it", 3, r"non (?:è )?più (?:attiva|monitorata|in uso)"),
    ("pt", 3, r"não (?:é|está) (?:mais )?(?:monitorad|utilizad)"),
    ("nl", 3, r"wordt niet (?:meer )?(?:gelezen|gecontroleerd)"),
]

TICKET_ACK: list[Phrase] = [
    (
        "en",
        3,
        r"we(?:'ve| have)? (?:received|got) your (?:request|message|e-?mail|inquiry|enquiry|"
        r"ticket|support request)|your (?:request|ticket|case|message) (?:\(?#?\d[\w-]*\)? )?"
        r"(?:has been|was) (?:received|created|logged|opened)|ticket (?:#|number|id)|"
        r"a (?:member of our|support|customer service) (?:team|agent|representative) will|"
        r"thank you for contacting|(?:please )?(?:type your )?reply above this line|"
        r"your (?:request|ticket|case)\b.{0,120}?(?:has been|was) (?:received|created|logged)|"
        r"we will (?:get back|respond|reply) to you (?:as soon as|shortly|"
        r"within)|listed on my [\w ]+ guest list",
    ),
    ("de", 3, r"wir haben ihre (?:anfrage|nachricht|e-?mail) erhalten|ihre anfrage (?:ist|wurde)"),
    ("fr", 3, r"nous avons (?:bien )?reçu votre"),
    ("es", 3, r"hemos recibido su"),
    ("it", 3, r"abbiamo ricevuto (?:la|il) (?:sua|tua|vostra)"),
    ("pt", 3, r"recebemos (?:a )?sua"),
    ("nl", 3, r"(?:wij|we) hebben uw .{0,30}ontvangen"),
    ("pl", 3, r"otrzymaliśmy"),
    ("ru", 3, r"ваш(?:е)? (?:обращение|письмо|запрос) (?:получен|принят)"),
    ("ja", 3, r"受け付けました|受信いたしました|受信しました"),
    ("zh", 3, r"您的邮件已收到|已收到您的"),
]

# A person talking to the sender: a question or a request the other way.
HUMAN_REQUEST = re.compile(
    r"\b(?:could|can|would|will) you\b|\bplease send\b|\bsend (?:me|over|us)\b|\blet(?:'s| us) "
    r"(?:talk|meet|chat|catch up|schedule)|\blet me know\b|\binterested\b|"
    r"pourriez-vous|¿|czy (?:mógłby|może)|не могли бы",
    re.I,
)


def _compile(table: list[Phrase]) -> list[tuple[str, int, re.Pattern[str]]]:
    return [(lang, weight, re.compile(rx, re.I)) for lang, weight, rx in table]


_TABLES = {
    "auto": _compile(AUTO_MARKERS),
    "ooo": _compile(OUT_OF_OFFICE),
    "left": _compile(LEFT_COMPANY),
    "unmonitored": _compile(NOT_MONITORED),
    "ticket": _compile(TICKET_ACK),
}
_FLAGS = {
    "left": Flag.LEFT_COMPANY,
    "unmonitored": Flag.MAILBOX_NOT_MONITORED,
    "ticket": Flag.TICKET_ACKNOWLEDGEMENT,
}


@dataclass
class TextFindings:
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    families: set[str] = field(default_factory=set)
    flags: set[Flag] = field(default_factory=set)
    human_request: bool = False

    @property
    def strong(self) -> bool:
        """A phrase that on its own says automatic or away (not only 'thanks' and 'contact')."""
        return self.score >= 2 and bool(self.families - {"weak"})


def scan(text: str, families: tuple[str, ...] = tuple(_TABLES)) -> TextFindings:
    findings = TextFindings()
    sample = _SPACES.sub(" ", text[:SAMPLE])
    skip = set()
    if not _CJK.search(sample):
        skip |= {"ja", "zh"}
    if not _CYRILLIC.search(sample):
        skip.add("ru")
    for family in families:
        table = _TABLES[family]
        hit_in_family = False
        for lang, weight, pattern in table:
            if lang in skip:
                continue
            match = pattern.search(sample)
            if not match:
                continue
            # Each distinct phrase counts (at most two per entry): a reply that says
            # "back on" and "for urgent matters" says more than one that only says "back on".
            second = pattern.search(sample, match.end())
            distinct = 2 if second and second.group(0).lower() != match.group(0).lower() else 1
            findings.score += weight * distinct
            findings.reasons.append(f"text ({lang}): '{match.group(0).strip()[:60]}'")
            if distinct == 2 and second:
                findings.reasons.append(f"text ({lang}): '{second.group(0).strip()[:60]}'")
            if lang not in findings.languages:
                findings.languages.append(lang)
            if weight >= 2:
                hit_in_family = True
            if family in _FLAGS:
                findings.flags.add(_FLAGS[family])
        if hit_in_family:
            findings.families.add(family)
    findings.human_request = bool(HUMAN_REQUEST.search(sample))
    return findings


def fresh_of(parsed: Parsed) -> str:
    """The fresh text of a message (computed once per message)."""
    cached = parsed.cache.get("fresh")
    if not isinstance(cached, str):
        cached = parsed.cache["fresh"] = fresh_text(parsed.body_text)
    return cached


def findings_of(parsed: Parsed) -> TextFindings:
    """``scan`` of the fresh text (computed once per message)."""
    cached = parsed.cache.get("findings")
    if not isinstance(cached, TextFindings):
        cached = parsed.cache["findings"] = scan(fresh_of(parsed))
    return cached
