"""flows.gsm: encodings, segment counts, typographic replacements, and the cost of the shipped texts."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from flows.engine import Policy, Texter, decide
from languages import builtin
from flows.gsm import GSM7_BASIC, GSM7_EXTENDED, SegmentInfo, non_gsm_chars, segment_info, to_gsm7
from flows.hours import parse_weekly
from flows.checks import CALLBACK_ETA_SAMPLE, MAX_SEGMENTS
from flows.loader import DEFINITIONS, load_directory

NY = ZoneInfo("America/New_York")


# -- GSM-7 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length,segments", [
    (0, 1), (1, 1), (159, 1), (160, 1), (161, 2), (305, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_gsm7_segments_160_then_153(length, segments):
    info = segment_info("a" * length)
    assert info == SegmentInfo("GSM-7", length, segments, ())


@pytest.mark.parametrize("char", sorted(GSM7_EXTENDED))
def test_extension_characters_count_double(char):
    assert segment_info(char) == SegmentInfo("GSM-7", 2, 1, ())
    assert segment_info(char * 80).segments == 1
    assert segment_info(char * 80 + "a").segments == 2


@pytest.mark.parametrize("text,units,segments", [
    ("€" * 80, 160, 1),
    ("€" * 81, 162, 2),
    ("a" * 159 + "{", 161, 2),
    ("a" * 158 + "}", 160, 1),
    ("{program}", 11, 1),
    ("[x] ~ ^ | \\", 17, 1),  # 11 characters, 6 of them from the extension table
    ("price: 5€", 10, 1),
])
def test_mixed_extension_text(text, units, segments):
    info = segment_info(text)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", units, segments)


@pytest.mark.parametrize("text", [
    "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ", "¡ÄÖÑÜ§¿äöñüà", "Msg&data rates may apply. Reply STOP!", "a\nb\rc", "#¤%",
])
def test_gsm7_basic_characters_count_once(text):
    info = segment_info(text)
    assert info.encoding == "GSM-7" and info.units == len(text) and not non_gsm_chars(text)


def test_gsm7_alphabet_has_127_basic_and_10_extension_characters():
    assert len(GSM7_BASIC) == 127  # 128 code points minus the escape
    assert len(GSM7_EXTENDED) == 10
    assert not GSM7_BASIC & GSM7_EXTENDED


# -- UCS-2 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,units,segments", [
    ("ê", 1, 1),
    ("ê" * 70, 70, 1),
    ("ê" * 71, 71, 2),
    ("ê" * 134, 134, 2),
    ("ê" * 135, 135, 3),
    ("😀", 2, 1),                  # outside the BMP: a surrogate pair, two UTF-16 units
    ("😀" * 35, 70, 1),
    ("😀" * 35 + "a", 71, 2),
    ("a" * 69 + "😀", 71, 2),
    ("a" * 160 + "’", 161, 3),     # one curly quote turns 1 GSM segment into 3 UCS-2 segments
    ("👍🏽", 4, 1),
])
def test_ucs2_segments_70_then_67_counting_utf16_units(text, units, segments):
    info = segment_info(text)
    assert (info.encoding, info.units, info.segments) == ("UCS-2", units, segments)


def test_non_gsm_characters_reported_once_in_order():
    assert segment_info("“hi” – 😀 “again”").non_gsm == ("“", "”", "–", "😀")
    assert non_gsm_chars("plain text") == ()
    assert non_gsm_chars("it’s") and not non_gsm_chars("it's")


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2():
    text = "a" * 100 + "€" + "ê"
    info = segment_info(text)
    assert info.encoding == "UCS-2" and info.units == 102 and info.segments == 2 and info.non_gsm == ("ê",)


def test_extension_character_is_not_split_across_segments():
    assert segment_info("a" * 152 + "€" + "a" * 152).segments == 3


def test_surrogate_pair_is_not_split_across_segments():
    assert segment_info("a" * 66 + "😀" + "a" * 66).segments == 3


# -- to_gsm7 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,clean", [
    ("it\u2019s", "it's"),
    ("\u2018quoted\u2019", "'quoted'"),
    ("\u201cquoted\u201d", '"quoted"'),
    ("\u201elow\u201c", '"low"'),
    ("a \u2014 b", "a - b"),
    ("a \u2013 b", "a - b"),
    ("9\u201317", "9-17"),
    ("\u2212 5", "- 5"),
    ("\u2022 one\n\u2022 two", "- one\n- two"),
    ("\u00b7 dot", "- dot"),
    ("wait\u2026", "wait..."),
    ("no\u00a0break", "no break"),
    ("thin\u2009space", "thin space"),
    ("zero\u200bwidth", "zerowidth"),
    ("tab\there", "tab here"),
    ("Narcan\u00ae", "Narcan(R)"),
    ("Brand\u2122", "Brand(TM)"),
    ("\u00a9 2025", "(C) 2025"),
    ("plain GSM text 123 €", "plain GSM text 123 €"),
])
def test_to_gsm7_replaces_typographic_characters(raw, clean):
    assert to_gsm7(raw) == clean
    assert not non_gsm_chars(to_gsm7(raw))


def test_to_gsm7_leaves_other_characters_alone():
    assert to_gsm7("ê 😀 中") == "ê 😀 中"


def test_to_gsm7_makes_pasted_text_cheaper():
    pasted = "We\u2019re here \u2014 \u201cno judgment\u201d\u2026 " * 4
    before, after = segment_info(pasted), segment_info(to_gsm7(pasted))
    assert (before.encoding, before.segments) == ("UCS-2", 2)
    assert (after.encoding, after.segments) == ("GSM-7", 1)


# -- the shipped flow definitions ----------------------------------------------------------------------

FLOWSET = load_directory()
DISCLOSURE = FLOWSET.message("disclosure")
ETAS = (CALLBACK_ETA_SAMPLE, "within about 30 minutes", "after 12:00 PM EST tomorrow",
        "after 12:30 PM EDT on Wednesday", "as soon as we can")


@pytest.mark.parametrize("name", sorted(FLOWSET.program.messages))
def test_program_messages_are_gsm7_and_short(name):
    text = FLOWSET.message(name)
    with_disclosure = text + "\n\n" + DISCLOSURE if name == "menu" else text
    info = segment_info(with_disclosure)
    assert info.encoding == "GSM-7", info.non_gsm
    assert info.segments <= MAX_SEGMENTS


@pytest.mark.parametrize("flow", sorted(FLOWSET.flows))
@pytest.mark.parametrize("eta", ETAS)
def test_flow_replies_with_disclosure_are_gsm7_and_short(flow, eta):
    text = FLOWSET.render(FLOWSET.text(FLOWSET.flows[flow].reply), callback_eta=eta) + "\n\n" + DISCLOSURE
    info = segment_info(text)
    assert info.encoding == "GSM-7", info.non_gsm
    assert info.segments <= MAX_SEGMENTS


@pytest.mark.parametrize("flow,step", [(f.name, i) for f in FLOWSET.flows.values() for i in range(len(f.followups))])
def test_followups_are_gsm7_and_short(flow, step):
    info = segment_info(FLOWSET.render(FLOWSET.text(FLOWSET.flows[flow].followups[step].text)))
    assert info.encoding == "GSM-7", info.non_gsm
    assert info.segments <= MAX_SEGMENTS


@pytest.mark.parametrize("flow,step", [(f.name, s) for f in FLOWSET.flows.values() for s in f.steps
                                       if f.steps[s].text])  # a silent step (action: inbox) says nothing
def test_every_step_is_gsm7_and_short(flow, step):
    info = segment_info(FLOWSET.render(FLOWSET.text(FLOWSET.flows[flow].steps[step].text), callback_eta=ETAS[0]))
    assert info.encoding == "GSM-7", info.non_gsm
    assert info.segments <= MAX_SEGMENTS


@pytest.mark.parametrize("path", sorted(DEFINITIONS.glob("*.yaml")), ids=lambda p: p.name)
def test_raw_definition_files_are_gsm7_once_spanish_is_plain(path):
    """The shipped Spanish is written with its accents; á, í, ó, ú go out plain (the program's setting)."""
    assert non_gsm_chars(builtin().as_sent(path.read_text(encoding="utf-8"), "es", True)) == ()


@pytest.mark.parametrize("body", ["SIGNS", "TREATMENT", "CALL", "hello", "", "HELP", "STOP", "START",
                                  "my friend overdosed", "CALL he is not breathing", "STOP i want to die"])
@pytest.mark.parametrize("now", [datetime(2025, 1, 15, 10, 0, tzinfo=NY), datetime(2025, 1, 17, 18, 0, tzinfo=NY),
                                 datetime(2025, 7, 16, 12, 40, tzinfo=NY)])
def test_every_first_contact_reply_the_engine_sends_is_gsm7_and_short(body, now):
    policy = Policy(parse_weekly("Mon-Fri 09:00-17:00"))
    decision = decide(FLOWSET, policy, Texter(first_contact=True), body, now)
    assert decision.replies
    for reply in decision.replies:
        info = segment_info(reply)
        assert info.encoding == "GSM-7", info.non_gsm
        assert info.segments <= MAX_SEGMENTS
