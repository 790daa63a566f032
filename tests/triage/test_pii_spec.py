"""Sensitive data and the reply guard, pinned to the label page on cases written for these tests."""

from __future__ import annotations

import pytest

from flockdesk.triage import check_reply, sensitive_kinds

ORG = [
    "help@acmebank.example",
    "0300 555 0100",
    "+44 20 7946 0999",
    "1 Quay Street, Bristol BS1 4DJ",
    "1109876",
]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("my loyalty number is LY 553 201 998, points missing", "account_number"),
        ("Donor ID 2001-44718, please stop the monthly gift", "account_number"),
        ("Patient no. 50293377, which ward is she on?", "account_number"),
        ("my library card number is 2300 4411 9012 and it says I owe a fine", "account_number"),
        ("online banking username is bob_smith77 and it's locked", "account_number"),
        ("Kundennummer 7781023, die Rechnung ist falsch", "account_number"),
        ("número de cliente BW-00771122, me habéis cobrado dos veces", "account_number"),
        ("direct debit from account ending 4410 went out twice", "account_number"),
        ("localizador KX7PQD, me cobrasteis el asiento dos veces", "order_number"),
        ("Order ref NB/4531/662 please cancel", "order_number"),
        ("Bestellnummer 100-2287451, das Paket fehlt", "order_number"),
        ("n° de commande 300-5518274, colis jamais reçu", "order_number"),
        ("password Tulip2019! and it still won't let me in", "credential"),
        ("the one-time code is 448120, did I get hacked?", "credential"),
        ("my NHS number is 485 777 3456, appointment missing", "government_id"),
        ("meu CPF 123.456.789-09 não aparece na nota", "government_id"),
        ("Reisepassnummer C01X00T47, bitte korrigieren", "government_id"),
        ("card ending 7734 was charged again", "payment_card"),
        ("Visa 4970 1012 3456 7890 can you remove it?", "payment_card"),  # fails Luhn, but said to be a card
        ("DOB as 11/02/1995 when it's 02/11/1995", "date_of_birth"),
        ("fecha de nacimiento 02/11/1951, cita el martes", "date_of_birth"),
        ("my email is __email__ please update it", "email"),
        ("mi móvil: 612 34 56 78, llamadme", "phone"),
        ("adresse de livraison 18 rue Paul Bert, 69003 Lyon", "address"),
        ("Meine Adresse: Lindenstraße 8, 50674 Köln", "address"),
    ],
)
def test_kinds_the_error_analysis_found_missing(text: str, kind: str) -> None:
    assert kind in sensitive_kinds(text)


@pytest.mark.parametrize(
    ("text", "not_kind"),
    [
        ("the app crashed at 1am. again.", "email"),
        ("details are at acmebank.example/status", "email"),
        ("member number SW 448 219 073, miles missing", "phone"),  # a reference, not a phone
        ("Donor ID 1002-30418 please stop", "phone"),
        ("Rewards number 6339 0188 2240 1963 points missing", "phone"),
        ("I opened 3 empty ones in a row this morning", "address"),
        ("Postcode area HD7, is 5G coming?", "address"),  # an area, not a street address
        ("Forgot my password for the 4th time this year", "credential"),
        ("we are registered charity number 1109876", "account_number"),
    ],
)
def test_things_that_only_look_like_personal_data(text: str, not_kind: str) -> None:
    assert not_kind not in sensitive_kinds(text)


def test_the_organisations_own_contact_details_are_exempt() -> None:
    text = "Call 0300 555 0100 (or +44 20 7946 0999 from abroad), email help@acmebank.example or visit 1 Quay Street, Bristol BS1 4DJ."
    assert sensitive_kinds(text) != []  # without the setting they read as personal data
    assert sensitive_kinds(text, ORG) == []
    assert sensitive_kinds("email cards@acmebank.example", ORG) == []  # another of its own mailboxes
    assert sensitive_kinds("my number is 07700 900123", ORG) == ["phone"]
    check = check_reply("Please call us on 0300 555 0100 and we'll block the card.", org_contacts=ORG)
    assert not check.asks_for_sensitive and check.contains_sensitive == []


@pytest.mark.parametrize(
    "reply",
    [
        "Which email did you use for the booking?",
        "What number can we call you on?",
        "Can you pop your booking reference below?",
        "To register we'll need your name, date of birth and address. You can reply with them here.",
        "DM us or reply here with your PNR and we'll add the meal.",
        "Your frequent flyer number and the email on your profile, please, and we'll add the miles.",
        "Please reply with your council tax account number and the date you paid.",
        "¿Nos dejas aquí tu número de pedido y la dirección de entrega?",
        "Pouvez-vous nous écrire ici votre numéro client ?",
        "Antworten Sie einfach mit Ihrer Bestellnummer und Ihrer Lieferadresse.",
        "Pra bloquear o chip, responde aqui com o número da linha e a senha da conta.",
        "Rispondi qui con il codice prenotazione e le ultime 4 cifre della carta.",
    ],
)
def test_guard_flags_public_asks_in_any_phrasing(reply: str) -> None:
    assert check_reply(reply).asks_for_sensitive, reply


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("We've blocked the card ending 4242 and a new one is on its way.", "payment_card"),
        ("We've unlocked the line ending 4471.", "account_number"),
        ("We've corrected the reading on BW-00442187 and a new bill follows.", "account_number"),
        ("We've updated the date of birth on your I-20 to 09/03/2001.", "date_of_birth"),
        ("Hemos bloqueado la tarjeta acabada en 8812.", "payment_card"),
        ("Une nouvelle carte se terminant par 2291 arrive sous 5 jours.", "payment_card"),
    ],
)
def test_guard_flags_replies_that_repeat_personal_data(reply: str, kind: str) -> None:
    assert kind in check_reply(reply).contains_sensitive


@pytest.mark.parametrize(
    "reply",
    [
        "Please send us a DM with your order number and we'll take a look.",
        "What's the best number to reach you on? Please DM it to us rather than posting it here.",
        "Never share your password or PIN with anyone, including us.",
        "Sorry about the wait. Our team is on it and we'll update you here.",
        "Ne communiquez jamais votre code à personne.",
    ],
)
def test_guard_passes_dm_invitations_and_warnings(reply: str) -> None:
    check = check_reply(reply)
    assert not check.asks_for_sensitive and check.contains_sensitive == [], reply
