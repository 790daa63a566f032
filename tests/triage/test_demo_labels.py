"""Labels that were wrong in the demo scenarios (airline, college, alumni), written down before the fix."""

from __future__ import annotations

import pytest

from flockdesk.triage import find_sensitive, triage_message


def test_resolved_story_told_as_praise() -> None:
    text = (
        "Skyward Airlines lost my bag in Chicago, found it, and delivered it to my hotel in 6 hours. "
        "Impressed."
    )
    res = triage_message(text, channel="mention")
    assert res.intent == "praise"
    assert res.sentiment == "positive"
    assert not res.urgent
    assert not res.move_to_dm


def test_resolved_story_still_a_complaint_when_the_problem_goes_on() -> None:
    res = triage_message("@acme lost my bag, found it, and now it's missing again. Unacceptable.")
    assert res.intent == "complaint"
    assert res.sentiment == "negative"


def test_travel_next_week_is_not_urgent() -> None:
    text = (
        "@SkywardAir travelling with a wheelchair next week. What do I need to do so it's not damaged "
        "again like last time?"
    )
    res = triage_message(text, channel="mention")
    assert not res.urgent
    assert res.intent in ("question", "complaint")
    assert res.sentiment != "positive"


@pytest.mark.parametrize("when", ["this afternoon", "today", "tomorrow morning", "in 3 hours"])
def test_wheelchair_help_today_stays_urgent(when: str) -> None:
    res = triage_message(f"@SkywardAir my dad needs wheelchair assistance at Seattle {when}. Flight SK214.")
    assert res.urgent


def test_booking_ref_in_a_dm_is_an_order_number() -> None:
    res = triage_message("The ref again is K5QQWE", channel="dm")
    assert "order_number" in res.sensitive
    assert not res.move_to_dm  # already private


@pytest.mark.parametrize(
    "text, ref",
    [
        ("Hi, my flight was cancelled. Booking reference K7K8YK. Can you rebook me?", "K7K8YK"),
        ("my booking ref is S8LBPZ if that helps", "S8LBPZ"),
        ("PNR: QL53X4", "QL53X4"),
        ("confirmation code is HXBTWD", "HXBTWD"),
        ("the ref is ZFQGQ8 btw", "ZFQGQ8"),
    ],
)
def test_booking_references(text: str, ref: str) -> None:
    spans = [text[f.start : f.end] for f in find_sensitive(text) if f.kind == "order_number"]
    assert ref in spans


@pytest.mark.parametrize("text", ["the ref was terrible in that match", "ref: see above", "the ref is WRONG"])
def test_not_booking_references(text: str) -> None:
    assert all(f.kind != "order_number" for f in find_sensitive(text))


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Here's my date of birth for verification: 03/14/1988", "date_of_birth"),
        ("Hi, my financial aid hasn't been applied to my account. Student ID 00486774", "account_number"),
        ("@OakridgeU my student ID is 00482319 and the portal says I owe $149", "account_number"),
    ],
)
def test_more_personal_data(text: str, kind: str) -> None:
    assert kind in triage_message(text).sensitive


@pytest.mark.parametrize(
    "text",
    [
        "@OakridgeU how do I apply for the nursing program?",
        "@SkywardAir do you offer group rates for a school trip of 40?",
        "@OakridgeU what does the summer course cost?",
        "@SkywardAir thinking about getting the Skyward credit card for the lounge access. Is it worth it?",
        "@OakridgeU how much is tuition for out-of-state students? can't find it anywhere",
        "@SkywardAir Is it true you're adding a direct route to Chicago? Would book in a heartbeat",
    ],
)
def test_leads(text: str) -> None:
    assert triage_message(text).intent == "lead"


@pytest.mark.parametrize(
    "text",
    [
        "@SkywardAir honestly the crew on my last flight was great but the app is a disaster",
        "Never flying Skyward Airlines again. Ever.",
        "@SkywardAir your 'team' told me to call the number on the website. That number hangs up on me.",
        "@OakridgeU copy and pasted response, classic",
        "@SkywardAir 3rd day asking. Retweeting until someone answers.",
        "@OakridgeU update: facilities came and left without fixing it",
        "@OakridgeAlumni still getting the emails though",
        "@OakridgeAlumni I tried that, the form says my email is not in your records",
        "Oakridge U's financial aid office is a black hole",
        "@OakridgeU this school really only cares about donors 🙄",
    ],
)
def test_complaints(text: str) -> None:
    res = triage_message(text)
    assert res.intent == "complaint"
    assert res.sentiment != "positive"


@pytest.mark.parametrize(
    "text",
    [
        "@OakridgeU just got my acceptance letter!!! 😭😭 see you in the fall",
        "@SkywardAir thank you!! rebooked on the 6am, crisis averted 🙌",
        "Reunited with my freshman roommate after 25 years 😭 #OakridgeReunion",
    ],
)
def test_happy_messages_are_not_complaints(text: str) -> None:
    res = triage_message(text)
    assert res.intent != "complaint"
    assert res.sentiment != "negative"


@pytest.mark.parametrize(
    "text",
    [
        "@SkywardAir my booking ref is S8LBPZ if that helps",
        "@OakridgeU omg this is the third story like this I've seen today",
        "Looking for a roommate for spring, quiet, clean, likes plants #OakridgeBound",
    ],
)
def test_positive_words_alone_are_not_praise(text: str) -> None:
    assert triage_message(text).intent != "praise"


@pytest.mark.parametrize(
    "text",
    [
        "@SkywardAir 🎁 Congratulations! You've been selected for 2 FREE round-trip tickets. Claim now: "
        "https://free-flightz.example/claim",
        "@SkywardAir we help airlines get 50k followers in 7 days!!! cheap prices DM us",
        "Refund issues with #SkywardAir? DM us your booking ref and card number, we process refunds in 1 hour "
        "https://skyward-refunds.example",
        "@OakridgeU Need help with essays? 100% original, A+ guaranteed, cheap prices 📚 https://essay.example",
        "#OakridgeBound #OakridgeBound Do your assignments for you, DM now!!",
        "#OakridgeAlumni Verified alumni discount on luxury watches ⌚ https://deals.example",
    ],
)
def test_spam(text: str) -> None:
    assert triage_message(text).intent == "spam"


@pytest.mark.parametrize(
    "text",
    [
        "@OakridgeU Hi, I'm writing about the tuition increase announced today. Could the press office "
        "comment by 3pm?",
        "@SkywardAir Working on a story about lost wheelchairs on US airlines. Can you confirm?",
        "@OakridgeU Is it true the economics program is being cut? Need a comment today",
        "Hello, I'm a parent. My son is in Whitman Hall and isn't answering his phone for 2 days. Can someone "
        "check on him?",
        "I want to report something that happened at a party in Maple Hall. I don't want to do it publicly.",
    ],
)
def test_urgent_in_the_scenarios(text: str) -> None:
    assert triage_message(text).urgent


@pytest.mark.parametrize(
    "text",
    [
        "Update my address please: 18 Juniper Court, Apt 4B, Burlington VT 05401",
        "Anyone else on the London Heathrow flight tonight? #FlySkyward",
        "@SkywardAir shoutout to the crew on SK 455 tonight, the purser was brilliant 🙌",
    ],
)
def test_not_urgent_in_the_scenarios(text: str) -> None:
    assert not triage_message(text).urgent


def test_legal_threat_still_urgent() -> None:
    assert triage_message("@acme see you in court").urgent
    assert triage_message("@acme I'm taking you to small claims court").urgent


def test_a_customer_writing_about_a_lost_bag_is_not_a_journalist() -> None:
    text = "Hello, I'm writing about a lost bag. File reference TLH68T. It's my black duffel."
    res = triage_message(text, channel="dm")
    assert not res.urgent
    assert res.intent == "complaint"
    assert "order_number" in res.sensitive


def test_please_help_with_a_cancelled_flight_is_not_positive() -> None:
    text = (
        "@SkywardAir my flight SK 1187 was just cancelled and the app won't let me rebook. I fly next week "
        "for my connecting flight to Tokyo. Please help"
    )
    res = triage_message(text)
    assert res.intent == "complaint"
    assert res.sentiment != "positive"
    assert not res.urgent


@pytest.mark.parametrize(
    "text",
    [
        "@acme had no problems at all with the new app, couldn't be happier",
        "@acme your team never disappoints, thank you",
        "@acme issue resolved in 10 minutes, thanks to Sam",
    ],
)
def test_idioms_that_say_all_is_well_are_not_complaints(text: str) -> None:
    assert triage_message(text).intent != "complaint"


def test_no_refund_is_still_a_complaint() -> None:
    assert triage_message("@acme still no refund and no reply after 3 weeks").intent == "complaint"


@pytest.mark.parametrize(
    "text", ["couldn't be happier with the upgrade", "no complaints at all, smooth trip", "never disappoints"]
)
def test_idioms_vader_reads_backwards_are_positive(text: str) -> None:
    assert triage_message(text).sentiment == "positive"
