"""flows.loader.load_documents: the shipped definitions load; every kind of bad edit is refused clearly."""
import re
from datetime import timedelta

import pytest
import yaml

from flows.loader import DEFINITIONS, FlowError, load_directory, load_documents


@pytest.fixture
def docs() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}


def edit(docs: dict[str, str], name: str, change) -> dict[str, str]:
    """A copy of docs with one file round-tripped through YAML and changed by `change(doc)`."""
    doc = yaml.safe_load(docs[name])
    change(doc)
    return {**docs, name: yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)}


def problems(documents: dict[str, str]) -> list[str]:
    with pytest.raises(FlowError) as info:
        load_documents(documents)
    assert str(info.value) == "; ".join(info.value.problems)
    assert isinstance(info.value, ValueError)
    return info.value.problems


def only_problem(documents: dict[str, str]) -> str:
    found = problems(documents)
    assert len(found) == 1, found
    return found[0]


# -- the shipped set ------------------------------------------------------------------------------------

def test_shipped_definitions_load(docs):
    flowset = load_documents(docs)
    assert sorted(flowset.flows) == ["call", "signs", "treatment"]
    assert flowset.program.name == "Roaring Brook Recovery"
    assert flowset.program.phone == "855.590.9944"
    assert set(flowset.program.messages) == {"disclosure", "menu", "help", "stop", "start", "crisis"}
    assert flowset.flows["call"].action == "callback"
    assert flowset.flows["signs"].action is None
    assert flowset.triggers["HELPLINE"] == "call" and flowset.triggers["SIGN"] == "signs"
    assert flowset.flows["signs"].followups[0].after == timedelta(days=1)
    assert load_directory() == flowset


def test_yaml_round_trip_of_shipped_files_still_loads(docs):
    for name in docs:
        docs = edit(docs, name, lambda doc: None)
    assert load_documents(docs) == load_directory()


def test_followups_sorted_by_offset_and_units_read(docs):
    def change(doc):
        doc["followups"] = [{"after": "3d", "text": "c. Reply STOP to opt out."},
                            {"after": "90m", "text": "a. Reply STOP to opt out."},
                            {"after": "36h", "text": "b. Reply STOP to opt out."}]
    flow = load_documents(edit(docs, "signs.yaml", change)).flows["signs"]
    assert [f.after for f in flow.followups] == [timedelta(minutes=90), timedelta(hours=36), timedelta(days=3)]
    assert [f.text[0] for f in flow.followups] == ["a", "b", "c"]


def test_keywords_and_aliases_are_normalised(docs):
    def change(doc):
        doc["keyword"], doc["aliases"], doc["flow"] = " signs ", ["sign", " Symptoms "], " Signs "
    flowset = load_documents(edit(docs, "signs.yaml", change))
    assert flowset.flows["signs"].keyword == "SIGNS"
    assert flowset.flows["signs"].aliases == ("SIGN", "SYMPTOMS")


def test_a_new_flow_file_is_picked_up(docs):
    docs["naloxone.yaml"] = "flow: naloxone\nkeyword: NARCAN\naliases: [NALOXONE]\nreply: Naloxone reverses an opioid overdose. Call {phone}.\n"
    flowset = load_documents(docs)
    assert flowset.triggers["NARCAN"] == "naloxone" and flowset.flows["naloxone"].followups == ()


# -- refusals -----------------------------------------------------------------------------------------------

def test_keyword_clash_between_two_flows(docs):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d["aliases"].append("SIGN")))
    assert found == "treatment: keyword 'SIGN' is already used by signs"


def test_main_keyword_clash_between_two_flows(docs):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(keyword="CALL")))
    assert "'CALL' is already used by call" in found


@pytest.mark.parametrize("word", ["STOP", "stop", "UNSUBSCRIBE", "START", "YES", "HELP", "INFO", "END", "REVOKE"])
def test_reserved_compliance_keyword_as_alias(docs, word):
    found = only_problem(edit(docs, "signs.yaml", lambda d: d["aliases"].append(word)))
    assert found == f"signs: '{word.upper()}' is a reserved compliance keyword"


def test_reserved_compliance_keyword_as_main_keyword(docs):
    found = only_problem(edit(docs, "call.yaml", lambda d: d.update(keyword="HELP")))
    assert found == "call: 'HELP' is a reserved compliance keyword"


@pytest.mark.parametrize("word", ["CALL ME", "A", "X" * 21, "CALL-ME", "ÉCOUTE", ""])
def test_keyword_must_be_letters_or_digits(docs, word):
    found = only_problem(edit(docs, "call.yaml", lambda d: d["aliases"].append(word)))
    assert "must be 2-20 letters or digits" in found


@pytest.mark.parametrize("char", ["\u2019", "\u2014", "\u201c", "😀", "ê", "\u2026"])
def test_non_gsm_characters_in_a_flow_reply(docs, char):
    found = only_problem(edit(docs, "signs.yaml", lambda d: d.update(reply=f"Signs{char} of dependence.")))
    assert found.startswith("signs: reply: non-GSM characters")
    assert repr(char) in found


def test_non_gsm_characters_in_a_program_message(docs):
    found = only_problem(edit(docs, "program.yaml", lambda d: d["messages"].update(
        menu=d["messages"]["menu"].replace("We're", "We\u2019re"))))
    assert found == "program.yaml: menu: non-GSM characters '\u2019'"


def test_non_gsm_characters_in_a_followup(docs):
    def change(doc):
        doc["followups"][0]["text"] = "Thinking of you \u2014 reply STOP to opt out."
    found = only_problem(edit(docs, "signs.yaml", change))
    assert found.startswith("signs: follow-up 1: non-GSM characters")


def test_non_gsm_characters_in_the_program_name(docs):
    assert load_documents(edit(docs, "program.yaml", lambda d: d["program"].update(name="Roaring Brook Récovery")))
    found = problems(edit(docs, "program.yaml", lambda d: d["program"].update(name="Roaring Brook Rêcovery")))
    assert "program.yaml: help: non-GSM characters 'ê'" in found
    assert "signs: reply: non-GSM characters 'ê'" in found  # via the disclosure appended on first contact


def test_text_too_long(docs):
    found = only_problem(edit(docs, "signs.yaml", lambda d: d.update(reply="x" * 460)))
    assert found == "signs: reply: 4 segments (at most 3, with the first-contact disclosure)"


def test_flow_reply_length_counts_the_disclosure(docs):
    # 459 characters fit in 3 segments alone, but not with the disclosure appended on first contact.
    found = only_problem(edit(docs, "signs.yaml", lambda d: d.update(reply="x" * 400)))
    assert "segments" in found and "disclosure" in found


def test_followup_too_long(docs):
    def change(doc):
        doc["followups"][0]["text"] = "Reply STOP to opt out. " + "x" * 460
    found = only_problem(edit(docs, "signs.yaml", change))
    assert found.startswith("signs: follow-up 1: 4 segments")


def test_program_message_too_long(docs):
    found = only_problem(edit(docs, "program.yaml", lambda d: d["messages"].update(
        crisis=d["messages"]["crisis"] + " " + "x" * 300)))
    assert found.startswith("program.yaml: crisis: ") and "segments (at most 3" in found


@pytest.mark.parametrize("placeholder", ["{name}", "{eta}"])
def test_unknown_placeholder(docs, placeholder):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply=f"Call {placeholder} now.")))
    assert found.startswith("treatment: reply: unknown placeholder {")


STRAY = "treatment: reply: a { or } that is not a placeholder (placeholders look like {program})"


@pytest.mark.parametrize("placeholder", ["{Program}", "{0}", "{}", "{program.name}", "{program!r}",
                                         "{program:>200000000}", "{program.__class__}", "{{program}}"])
def test_only_bare_names_are_placeholders(docs, placeholder):
    """str.format's fields would let one text cost seconds and gigabytes ({program:>200000000}) or reach
    into objects; only {name} is a placeholder, anything else in braces is refused at once."""
    import time
    started = time.perf_counter()
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply=f"Call {placeholder} now.")))
    assert found == STRAY and time.perf_counter() - started < 1


def test_unknown_placeholder_names_it(docs):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply="Hi {programme}, call {phone}.")))
    assert found == "treatment: reply: unknown placeholder {programme}"


@pytest.mark.parametrize("text", ["Call {phone now.", "Call phone} now.", "Hi {program}} and {", "{{program}"])
def test_unbalanced_braces(docs, text):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply=text)))
    assert found == STRAY


def test_render_fills_only_known_names():
    from flows.model import fill
    assert fill("Call {phone} at {program}, {other}", {"phone": "1", "program": "P"}) == "Call 1 at P, {other}"


def test_missing_program_yaml(docs):
    del docs["program.yaml"]
    assert only_problem(docs) == "program.yaml: missing"


@pytest.mark.parametrize("text", ["flow: signs\nkeyword: [SIGNS\n", "flow: signs\n  keyword: SIGNS\n bad", "a: b: c\n",
                                  "flow: 'open\n"])
def test_invalid_yaml(docs, text):
    found = only_problem({**docs, "signs.yaml": text})
    assert found.startswith("signs.yaml: not valid YAML (")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n", "42\n"])
def test_yaml_that_is_not_a_mapping(docs, text):
    assert only_problem({**docs, "signs.yaml": text}) == "signs.yaml: must be a mapping of keys to values"


def test_invalid_yaml_in_several_files_reports_all(docs):
    found = problems({**docs, "signs.yaml": "a: [", "program.yaml": "b: ["})
    assert len(found) == 2 and {p.split(":")[0] for p in found} == {"signs.yaml", "program.yaml"}


def test_unknown_key_in_a_flow(docs):
    found = only_problem(edit(docs, "signs.yaml", lambda d: d.update(replies="typo of reply")))
    assert found == "signs.yaml: unknown key 'replies'"


def test_unknown_keys_in_program(docs):
    found = problems(edit(docs, "program.yaml", lambda d: d.update(name="x", messagess={})))
    assert "program.yaml: unknown key 'messagess'" in found and "program.yaml: unknown key 'name'" in found


@pytest.mark.parametrize("after", ["2w", "1 day", "-1d", "", "1.5h", "d", "1D", 5, None, "36 h"])
def test_bad_followup_offset(docs, after):
    def change(doc):
        doc["followups"][0]["after"] = after
    found = only_problem(edit(docs, "signs.yaml", change))
    assert found == "signs.yaml: follow-up 1 needs after (like 1d, 36h, 90m) and text"


@pytest.mark.parametrize("item", [{"after": "1d"}, {"after": "1d", "text": "  "}, "1d", ["1d", "text"]])
def test_followup_without_text(docs, item):
    found = only_problem(edit(docs, "signs.yaml", lambda d: d.update(followups=[item])))
    assert "follow-up 1 needs after" in found


def test_followups_not_a_list(docs):
    found = only_problem(edit(docs, "signs.yaml", lambda d: d.update(followups={"after": "1d", "text": "x"})))
    assert found == "signs.yaml: followups must be a list"


@pytest.mark.parametrize("text", ["Thinking of you.", "Reply stop to opt out.", "Reply S T O P."])
def test_followup_without_stop(docs, text):
    def change(doc):
        doc["followups"][1]["text"] = text
    assert only_problem(edit(docs, "signs.yaml", change)) == "signs: follow-up 2 must say how to stop (STOP)"


@pytest.mark.parametrize("part,replacement", [
    ("{program}", "We"),
    ("{phone}", "us"),
    ("Msg&data rates may apply.", ""),
    ("STOP to cancel", "NO to cancel"),
])
def test_help_text_missing_required_parts(docs, part, replacement):
    def change(doc):
        assert part in doc["messages"]["help"]
        doc["messages"]["help"] = doc["messages"]["help"].replace(part, replacement)
    expected_part = "rates may apply" if part.startswith("Msg") else part.split()[0]
    assert only_problem(edit(docs, "program.yaml", change)) == f"program.yaml: help message must include {expected_part}"


@pytest.mark.parametrize("message,part", [
    ("stop", "START"), ("start", "rates may apply"), ("disclosure", "HELP"), ("crisis", "911"), ("crisis", "988"),
    ("menu", "TREATMENT"),
])
def test_other_program_messages_missing_required_parts(docs, message, part):
    def change(doc):
        doc["messages"][message] = re.sub(re.escape(part), "", doc["messages"][message], flags=re.IGNORECASE)
    assert f"program.yaml: {message} message must include {part}" in problems(edit(docs, "program.yaml", change))


@pytest.mark.parametrize("message", ["disclosure", "menu", "help", "stop", "start", "crisis"])
def test_program_message_missing(docs, message):
    found = only_problem(edit(docs, "program.yaml", lambda d: d["messages"].pop(message)))
    assert found.startswith("program.yaml: messages needs text for each of disclosure, menu, help")


@pytest.mark.parametrize("change", [lambda d: d["program"].pop("phone"), lambda d: d["program"].update(name=" "),
                                    lambda d: d.pop("program")])
def test_program_needs_name_and_phone(docs, change):
    assert only_problem(edit(docs, "program.yaml", change)) == "program.yaml: program needs a name and a phone"


@pytest.mark.parametrize("key", ["flow", "keyword", "reply"])
def test_flow_needs_flow_keyword_and_reply(docs, key):
    assert only_problem(edit(docs, "call.yaml", lambda d: d.pop(key))) == "call.yaml: needs flow, keyword and reply"


def test_bad_action(docs):
    found = only_problem(edit(docs, "call.yaml", lambda d: d.update(action="sms")))
    assert found == "call.yaml: action must be 'callback' or absent"


@pytest.mark.parametrize("aliases", ["SIGN", [1, 2], {"SIGN": 1}])
def test_aliases_must_be_a_list_of_words(docs, aliases):
    assert "signs.yaml: aliases must be a list of words" in problems(
        edit(docs, "signs.yaml", lambda d: d.update(aliases=aliases)))


@pytest.mark.parametrize("version", [0, -1, "1", 1.5])
def test_bad_version(docs, version):
    found = only_problem(edit(docs, "signs.yaml", lambda d: d.update(version=version)))
    assert found == "signs.yaml: version must be a positive whole number"


def test_every_problem_is_reported_at_once(docs):
    docs = edit(docs, "signs.yaml", lambda d: d.update(colour="blue", version=0))
    docs = edit(docs, "treatment.yaml", lambda d: d["aliases"].append("STOP"))
    docs = edit(docs, "call.yaml", lambda d: d.update(action="sms"))
    found = problems(docs)
    assert len(found) == 4, found


# -- validation gaps ------------------------------------------------------------------------------------------

def test_duplicate_flow_name_in_two_files(docs):
    other = edit(docs, "signs.yaml", lambda d: d.update(keyword="WARNSIGNS", aliases=["REDFLAGS"], reply="Other."))
    problems({**docs, "signs2.yaml": other["signs.yaml"]})


def test_callback_eta_in_a_program_message_is_refused(docs):
    problems(edit(docs, "program.yaml", lambda d: d["messages"].update(
        help=d["messages"]["help"] + " We call {callback_eta}.")))


def test_callback_eta_in_a_followup_is_refused(docs):
    def change(doc):
        doc["followups"][0]["text"] = "We will call {callback_eta}. Reply STOP to opt out."
    problems(edit(docs, "call.yaml", change))


@pytest.mark.parametrize("after", ["31d", "9999999d", "99999999999d", "721h"])
def test_followup_offsets_are_bounded(docs, after):
    def change(doc):
        doc["followups"][0]["after"] = after
    found = only_problem(edit(docs, "signs.yaml", change))
    assert found.startswith("signs.yaml: follow-up 1") and ("within 30 days" in found or "like 1d" in found)
