"""Sensitive data detection: real data is found, look-alike numbers are not."""

from __future__ import annotations

import pytest

from flockdesk.triage.sensitive import find_sensitive, luhn_valid, sensitive_kinds


@pytest.mark.parametrize(
    "text, kind",
    [
        ("email me at jane.doe@example.com please", "email"),
        ("it's john dot smith at gmail dot com", "email"),
        ("reach me: jane(at)example(dot)org", "email"),
        ("call me on 07700 900123", "phone"),
        ("my number is +44 20 7946 0958", "phone"),
        ("ring me at (415) 555-2671 after 5", "phone"),
        ("whatsapp +33 6 12 34 56 78", "phone"),
        ("my mobile +49 1512 3456789 is off", "phone"),
        ("card 4111 1111 1111 1111 was charged twice", "payment_card"),
        ("card 4111-1111-1111-1111 was charged twice", "payment_card"),
        ("amex 378282246310005", "payment_card"),
        ("my IBAN is GB82 WEST 1234 5698 7654 32", "account_number"),
        ("account number: 12345678 sort code 12-34-56", "account_number"),
        ("order #1234567 never arrived", "order_number"),
        ("booking ref ABC123 shows cancelled", "order_number"),
        ("tracking number 1Z999AA10123456784", "order_number"),
        ("my password is hunter22", "credential"),
        ("the one-time code: 493021", "credential"),
        ("SSN 123-45-6789", "government_id"),
        ("passport number 533380006", "government_id"),
        ("NI number AB 12 34 56 C", "government_id"),
        ("DOB: 12/03/1985", "date_of_birth"),
        ("date of birth is 3 March 1985", "date_of_birth"),
        ("I was born 12/03/1985", "date_of_birth"),
        ("born on 3 March 1985", "date_of_birth"),
        ("my birthday is 12/03/1985", "date_of_birth"),
        ("I was born on the 3rd of March, 1985 if you need it", "date_of_birth"),
        ("my birthday's March 3rd, 1985", "date_of_birth"),
        ("@acme birthday: 1985-03-12, please fix my account", "date_of_birth"),
        ("I live at 221 Baker Street, London", "address"),
        ("ship to 1600 Pennsylvania Ave, Washington, DC 20500", "address"),
        ("10 Downing Street, SW1A 2AA", "address"),
    ],
)
def test_detects_kind(text: str, kind: str) -> None:
    assert kind in sensitive_kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "it cost $1,299.99 in 2023",
        "tickets were £1200000 for the lot",
        "flight BA2490 delayed 3 hours",
        "flight UA 1234 at gate 42",
        "back in 1999 and 2015 it was fine",
        "version 10.2.3.4 broke everything",
        "server at 192.168.100.200 is down",
        "it was 4111 1111 1111 1112, sorry",  # Luhn-invalid and not said to be a card
        "postcode SW1A 1AA",  # an area, not a street address
        "call our helpline 1-800-275-2273",  # the organisation's public toll-free number
        "or 0800 123 4567 free from UK landlines",
        "we had 12,345,678 views on 2024-05-01",
        "score 3-2-1 tonight",
        "my password is wrong again",
        "born in 1985",  # a year only
        "I was born in March 1985 and have flown with you since",
        "happy birthday! 3 March 2026 was a great launch",
        "the birthday sale ends 12/03/2026",
    ],
)
def test_look_alikes_are_not_sensitive(text: str) -> None:
    assert sensitive_kinds(text) == [], find_sensitive(text)


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert luhn_valid("79927398713")


def test_spans_point_at_the_data() -> None:
    text = "hi, mail jane@example.com or call +1 415 555 2671"
    spans = {f.kind: text[f.start : f.end] for f in find_sensitive(text)}
    assert spans["email"] == "jane@example.com"
    assert spans["phone"].replace(" ", "") == "+14155552671"


def test_kinds_are_ordered_and_unique() -> None:
    kinds = sensitive_kinds("a@b.co and c@d.co, card 4111111111111111, call 07700 900123")
    assert kinds == ["email", "phone", "payment_card"]


def test_overlapping_detections_are_merged() -> None:
    found = find_sensitive("Here's my SSN: 460-89-9847")
    assert [(f.kind, f.start, f.end) for f in found] == [("government_id", 15, 26)]


@pytest.mark.parametrize(
    "text, date",
    [
        ("I was born 12/03/1985, can you help", "12/03/1985"),
        ("Born on the 3rd of March 1985.", "the 3rd of March 1985"),
        ("my birthday is 12/03/1985 btw", "12/03/1985"),
    ],
)
def test_date_of_birth_span_is_the_date(text: str, date: str) -> None:
    found = [f for f in find_sensitive(text) if f.kind == "date_of_birth"]
    assert [text[f.start : f.end] for f in found] == [date]


# The label page: loyalty, donor, patient and library numbers are account numbers; references in any
# language and punctuation are order numbers; NHS numbers and CPF are government ids; credentials count
# with or without "is"/":". Written for the project from the page's wording.
@pytest.mark.parametrize(
    ("text", "kind", "not_kind"),
    [
        (
            "pls add my Skyward Miles to the flight, forgot at check in. It's 5521 0098 337",
            "account_number",
            "phone",
        ),
        ("Rewards points missing. Card number 6339 0192 7781 4410", "account_number", "payment_card"),
        ("the supporter ID on the letter is KT-0099187, I never signed up", "account_number", None),
        ("Clubcard 6340 1122 3344 5566 hasn't got my points", "account_number", None),
        ("numéro de donateur 004-5512-88, merci d'arrêter", "account_number", "phone"),
        ("ma carte de bibliothèque n° 20419 0083 7712 est bloquée", "account_number", "phone"),
        ("Account numbers 88031204 and the other one", "account_number", None),
        ("Reference on my statement is FL-887213", "order_number", None),
        ("confirmation numbers J4TTR8 and J4TTR9, never made them", "order_number", None),
        ("mi localizador es QZ7-P4M", "order_number", None),
        ("Referencia de la operación HB-TX-20931", "order_number", None),
        ("Ordine n. 300-1177645 mai arrivato", "order_number", "phone"),
        ("bestelling 0612 448 907 is nooit aangekomen", "order_number", "phone"),
        ("passport wrong, its 548213907 not 548213970", "government_id", "phone"),
        ("o sistema pede meu CPF de novo: 529.982.247-25.", "government_id", "phone"),
        ("NHS number 943 476 5919", "government_id", "phone"),
        ("gave them her card PIN (it's 1957, her birth year)", "credential", None),
        ("my security answer on file should be 'Woolworths'", "credential", None),
        ("Mein Kundenkennwort lautet Sonnenblume77", "credential", None),
        ("A senha da conta é Flamengo81, se precisar", "credential", "account_number"),
        ("login is studio.harper and password Invoice#2024", "credential", "order_number"),
        ("it says my date of birth doesn't match. It's 22.09.1990", "date_of_birth", None),
        ("tengo que añadir a mi bebé (nació el 14/02/2024)", "date_of_birth", None),
        ("it's 5 Canal Wharf, Leeds LS11 5PS now", "address", None),
    ],
)
def test_identifiers_the_label_page_names(text: str, kind: str, not_kind: str | None) -> None:
    kinds = sensitive_kinds(text)
    assert kind in kinds
    if not_kind is not None:
        assert not_kind not in kinds


@pytest.mark.parametrize(
    "text",
    [
        "see you at 1am. bring snacks",
        "account set up yesterday. Meter reading today was 04417",
        "booking confirmed, flight SK880 at 14:05, gate 22",
        "código PAC pra portabilidade, linha nova",
    ],
)
def test_look_alikes_near_labels_are_not_personal_data(text: str) -> None:
    assert sensitive_kinds(text) == []
