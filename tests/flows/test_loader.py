"""flows.loader.load_documents: the shipped definitions and the conversation format load; every kind of
bad edit is refused, all at once, each problem with its file and line."""
import time
from datetime import timedelta

import pytest
import yaml

from flows.loader import DEFINITIONS, FlowError, load_directory, load_documents
from flows.model import LEGACY_STEP, Jump

CHECKIN = """\
flow: checkin            # the file's name without .yaml
keyword: CHECKIN
aliases: [CHECK]
start: ask               # the first step
steps:
  ask:
    text: Is this about you or someone you care about? Reply ME or OTHER.
    answers:             # the person's next message picks the branch
      - match: [ME, MYSELF, "1"]
        go: self
      - match: [OTHER, SOMEONE, FAMILY, "2"]
        go: other
    otherwise: ask       # a reply that matches no answer; the same step means "send it again"
    timeout: {after: 30m, go: nudge}   # no answer in time: send that step as a follow-up
  self:
    text: Thank you for telling us. ... Reply CALL and our team will phone you.
    set: {audience: self}              # stored on the person, encrypted like every personal datum
    next: {after: 1d, go: self_checkin}   # a later step, through the follow-up machinery
  other:
    text: Caring about someone who uses is hard. ...
    set: {audience: other}
    action: callback                   # optional, as today
  self_checkin:
    text: Checking in from {program}. ...
  nudge:
    text: Still there? Reply ME or OTHER, or CALL to talk with us.
summary: a quick check-in   # what the menu says CHECKIN is for
"""


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
    return info.value.problems


def only_problem(documents: dict[str, str]) -> str:
    found = problems(documents)
    assert len(found) == 1, found
    return found[0]


def without_line(problem: str) -> str:
    """'treatment.yaml:7: treatment reply: x' -> 'treatment.yaml: treatment reply: x'"""
    file, _, rest = problem.partition(":")
    return f"{file}:{rest.split(':', 1)[1]}" if rest.split(":", 1)[0].isdigit() else problem


# -- what loads ---------------------------------------------------------------------------------------------

def test_shipped_definitions_load(docs):
    flowset = load_documents(docs)
    assert sorted(flowset.flows) == ["call", "confirm", "signs", "treatment", "wellbeing"]
    assert sorted(flowset.journeys) == ["aftercare", "appointment"]
    assert [str(f.value) for f in flowset.program.fields.values()] == ["datetime", "date", "text"]
    assert flowset.program.name == "Roaring Brook Recovery" and flowset.program.phone == "855.590.9944"
    assert set(flowset.program.messages) == {"disclosure", "menu", "help", "stop", "start", "crisis", "language",
                                             "flagged", "crisis_again", "crisis_call", "crisis_update", "choices", "thanks",
                                             "appointment", "crisis_self_harm", "crisis_self_harm_again",
                                             "crisis_stay", "crisis_afraid", "unclear", "crisis_self_harm_more",
                                             "crisis_self_harm_update"}
    assert flowset.program.languages == ("en", "es") and flowset.program.default_language == "en"
    assert flowset.triggers["SENALES"] == "signs" and flowset.trigger_language["SENALES"] == "es"
    assert flowset.trigger_language["SIGNS"] == "en" and flowset.flows["signs"].keyword == {"en": "SIGNS", "es": "SEÑALES"}
    assert flowset.warnings == ()  # every text has its Spanish
    assert flowset.flows["call"].action == "callback" and flowset.flows["signs"].action is None
    assert flowset.triggers["HELPLINE"] == "call" and flowset.triggers["SIGN"] == "signs"
    assert flowset.flows["treatment"].followups[0].after == timedelta(days=1)
    assert load_directory() == flowset


def test_signs_asks_who_it_is_about(docs):
    signs = load_documents(docs).flows["signs"]
    assert signs.start == "signs" and signs.steps["signs"].next == Jump("ask")
    ask = signs.steps["ask"]
    assert [a.go for a in ask.answers] == ["self", "other"] and ask.timeout == Jump("nudge", timedelta(days=1))
    assert "TREATMENT" in signs.steps["self"].text["en"] and "CALL" in signs.steps["self"].text["en"]
    assert "naloxone" in signs.steps["other"].text["en"] and "CALL" in signs.steps["other"].text["en"]


def test_todays_format_loads_as_a_flow_without_questions(docs):
    treatment = load_documents(docs).flows["treatment"]
    assert list(treatment.steps) == [LEGACY_STEP] and treatment.start == LEGACY_STEP
    assert not treatment.steps[LEGACY_STEP].asks and len(treatment.followups) == 2


def test_the_issues_example_loads_exactly_as_written(docs):
    flowset = load_documents({**docs, "checkin.yaml": CHECKIN})
    checkin = flowset.flows["checkin"]
    assert flowset.triggers["CHECKIN"] == flowset.triggers["CHECK"] == "checkin"
    assert checkin.steps["ask"].answers[0].match == {"en": ("ME", "MYSELF", "1")}
    assert checkin.steps["ask"].otherwise == "ask" and checkin.steps["ask"].timeout == Jump("nudge", timedelta(minutes=30))
    assert checkin.steps["self"].set == {"audience": "self"}
    assert checkin.steps["self"].next == Jump("self_checkin", timedelta(days=1))
    assert checkin.steps["other"].action == "callback"


def test_yaml_round_trip_of_shipped_files_still_loads(docs):
    for name in docs:
        docs = edit(docs, name, lambda doc: None)
    assert load_documents(docs) == load_directory()


def test_followups_sorted_by_offset_and_units_read(docs):
    def change(doc):
        doc["followups"] = [{"after": "3d", "text": "c. Reply STOP to opt out."},
                            {"after": "90m", "text": "a. Reply STOP to opt out."},
                            {"after": "36h", "text": "b. Reply STOP to opt out."}]
    flow = load_documents(edit(docs, "treatment.yaml", change)).flows["treatment"]
    assert [f.after for f in flow.followups] == [timedelta(minutes=90), timedelta(hours=36), timedelta(days=3)]
    assert [f.text["en"][0] for f in flow.followups] == ["a", "b", "c"]


def test_keywords_and_aliases_are_normalised(docs):
    def change(doc):
        doc["keyword"], doc["aliases"], doc["flow"] = " treatment ", ["treat", " Rehab "], " Treatment "
    flowset = load_documents(edit(docs, "treatment.yaml", change))
    assert flowset.flows["treatment"].keyword == {"en": "TREATMENT"}
    assert flowset.flows["treatment"].aliases == {"en": ("TREAT", "REHAB")}


def test_a_new_flow_file_is_picked_up_and_joins_the_menu(docs):
    docs["naloxone.yaml"] = ("flow: naloxone\nkeyword: NARCAN\nsummary: naloxone\nmenu: 4\n"
                             "reply: Naloxone reverses an opioid overdose. Call {phone}.\n")
    flowset = load_documents(docs)
    assert flowset.triggers["NARCAN"] == "naloxone" and flowset.flows["naloxone"].followups == ()
    assert flowset.keywords() == "SIGNS, TREATMENT, CALL or NARCAN"
    assert "NARCAN" in flowset.message("menu")


# -- refusals, each with its file and line ---------------------------------------------------------------------

def test_problems_name_the_file_and_the_line(docs):
    found = problems({**docs, "checkin.yaml": CHECKIN.replace("go: other", "go: othr")})
    assert found == ["checkin.yaml:12: checkin step ask: answer 2 goes to 'othr', which is not a step",
                     "checkin.yaml:19: checkin step other: can't be reached from the start step"]


def test_a_go_that_names_no_step(docs):
    found = problems({**docs, "checkin.yaml": CHECKIN.replace("go: nudge}", "go: nudg}")})
    assert "checkin.yaml:14: checkin step ask: timeout goes to 'nudg', which is not a step" in found


def test_a_start_that_names_no_step(docs):
    found = problems({**docs, "checkin.yaml": CHECKIN.replace("start: ask", "start: begin")})
    assert "checkin.yaml:4: checkin: start names no step ('begin')" in found


def test_steps_that_cannot_be_reached(docs):
    text = CHECKIN.replace("summary:", "  orphan:\n    text: Nobody sends me.\nsummary:")
    found = only_problem({**docs, "checkin.yaml": text})
    assert found == "checkin.yaml:27: checkin step orphan: can't be reached from the start step"


def test_a_loop_of_steps_without_a_wait(docs):
    text = CHECKIN.replace("    text: Still there? Reply ME or OTHER, or CALL to talk with us.\n",
                           "    text: Still there? Reply ME or OTHER.\n    next: {go: again}\n"
                           "  again:\n    text: Again.\n    next: {go: nudge}\n")
    found = problems({**docs, "checkin.yaml": text})
    assert any("checkin step nudge: its next steps come back to it without a wait (a loop)" in p for p in found)


def test_more_than_three_steps_chained(docs):
    chain = ("flow: chain\nkeyword: CHAIN\nstart: a\nsteps:\n"
             "  a: {text: One., next: {go: b}}\n  b: {text: Two., next: {go: c}}\n"
             "  c: {text: Three., next: {go: d}}\n  d: {text: Four.}\nsummary: chain\n")
    found = problems({**docs, "chain.yaml": chain})
    assert "chain.yaml:5: chain step a: chains 4 steps without a wait (a > b > c > d); at most 3" in found


@pytest.mark.parametrize("word", ["STOP", "help", "Start", "unsubscribe", "INFO"])
def test_an_answer_that_is_a_compliance_word(docs, word):
    found = only_problem({**docs, "checkin.yaml": CHECKIN.replace('[ME, MYSELF, "1"]', f'[ME, {word}]')})
    assert f"checkin step ask: answer 1: '{word.upper()}' is a compliance word" in found


@pytest.mark.parametrize("words", ["[YES, Y]", "[Yes, SI, SÍ]"])
def test_a_question_may_offer_yes_as_an_answer(docs, words):
    flows = load_documents({**docs, "checkin.yaml": CHECKIN.replace('[ME, MYSELF, "1"]', words)})
    assert "YES" in flows.flows["checkin"].steps["ask"].answers[0].match["en"]


def test_two_answers_that_match_the_same_word(docs):
    found = only_problem({**docs, "checkin.yaml": CHECKIN.replace('SOMEONE, FAMILY, "2"', 'SOMEONE, "1"')})
    assert found == "checkin.yaml:11: checkin step ask: answers 1 and 2 both match '1'"


def test_waiting_belongs_to_a_question(docs):
    found = problems({**docs, "checkin.yaml": CHECKIN.replace("    set: {audience: other}\n",
                                                             "    set: {audience: other}\n    otherwise: ask\n")})
    assert any("checkin step other: otherwise and timeout belong to a step that asks" in p for p in found)
    found = problems({**docs, "checkin.yaml": CHECKIN.replace("    otherwise: ask ", "    next: {go: self}\n    otherwise: ask ")})
    assert any("a step that asks waits for the answer: use timeout, not next" in p for p in found)


@pytest.mark.parametrize("after", ["2w", "1 day", "-1d", "", "1.5h", "31d", "721h", "0m"])
def test_bad_times(docs, after):
    found = problems({**docs, "checkin.yaml": CHECKIN.replace("after: 30m", f"after: '{after}'")})
    assert "checkin.yaml:14: checkin step ask: after must be a time like 90m, 36h or 2d, within 30 days" in found


def test_every_problem_is_reported_at_once(docs):
    docs = edit(docs, "treatment.yaml", lambda d: d.update(colour="blue", version=0))
    docs = edit(docs, "call.yaml", lambda d: d["aliases"]["en"].append("STOP"))
    docs = {**docs, "checkin.yaml": CHECKIN.replace("go: self\n", "go: slef\n").replace("ME, MYSELF", "ME, HELP")}
    found = [without_line(p) for p in problems(docs)]
    assert "treatment.yaml: unknown key 'colour'" in found
    assert "treatment.yaml: version must be a positive whole number" in found
    assert "call.yaml: call: 'STOP' is a reserved compliance keyword" in found
    assert "checkin.yaml: checkin step ask: answer 1 goes to 'slef', which is not a step" in found
    assert any("'HELP' is a compliance word" in p for p in found)


def test_keyword_clash_between_two_flows(docs):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d["aliases"]["en"].append("SIGN")))
    assert without_line(found) == "treatment.yaml: treatment: keyword 'SIGN' is already used by signs"


@pytest.mark.parametrize("word", ["STOP", "stop", "UNSUBSCRIBE", "START", "YES", "HELP", "INFO", "END", "REVOKE"])
def test_reserved_compliance_keyword_as_alias(docs, word):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d["aliases"]["en"].append(word)))
    assert without_line(found) == f"treatment.yaml: treatment: '{word.upper()}' is a reserved compliance keyword"


@pytest.mark.parametrize("word", ["CALL ME", "A", "X" * 21, "CALL-ME"])
def test_keyword_must_be_letters_or_digits(docs, word):
    found = problems(edit(docs, "call.yaml", lambda d: d["aliases"]["en"].append(word)))
    assert any("must be 2-20 letters or digits" in p for p in found)


def test_yes_and_no_are_words_not_booleans(docs):
    text = CHECKIN.replace('[ME, MYSELF, "1"]', "[ME, NO, ON]")
    assert load_documents({**docs, "checkin.yaml": text}).flows["checkin"].steps["ask"].answers[0].match == {
        "en": ("ME", "NO", "ON")}


@pytest.mark.parametrize("char", ["\u2019", "\u2014", "\u201c", "😀", "ê", "\u2026"])
def test_non_gsm_characters_in_a_reply(docs, char):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply=f"Treatment{char} works.")))
    assert without_line(found).startswith("treatment.yaml: treatment reply: non-GSM characters") and repr(char) in found


def test_non_gsm_characters_in_a_step(docs):
    found = only_problem({**docs, "checkin.yaml": CHECKIN.replace("Still there?", "Still there\u2026")})
    assert found.startswith("checkin.yaml:26: checkin step nudge: non-GSM characters")


def test_non_gsm_characters_in_a_program_message(docs):
    found = only_problem(edit(docs, "program.yaml", lambda d: d["messages"].update(
        menu={**d["messages"]["menu"], "en": d["messages"]["menu"]["en"].replace("We're", "We\u2019re")})))
    assert without_line(found) == "program.yaml: menu: non-GSM characters (en) '\u2019'"


def test_text_too_long_counts_the_disclosure(docs):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply="x" * 400)))
    assert without_line(found) == ("treatment.yaml: treatment reply: 4 segments (en) (at most 3, with the "
                                   "first-contact disclosure)")


def test_a_step_sent_later_counts_its_opt_out_reminder(docs):
    flowset = load_documents({**docs, "checkin.yaml": CHECKIN})
    assert "STOP" not in flowset.flows["checkin"].steps["self_checkin"].text["en"]  # the sender adds it
    long = CHECKIN.replace("Checking in from {program}. ...", "Checking in. " + "x" * 440)
    assert "3 segments" not in only_problem({**docs, "checkin.yaml": long})


def test_followup_without_stop(docs):
    def change(doc):
        doc["followups"][1]["text"] = "Thinking of you."
    found = only_problem(edit(docs, "treatment.yaml", change))
    assert without_line(found) == "treatment.yaml: treatment follow-up 2: must say how to stop (STOP)"


@pytest.mark.parametrize("placeholder", ["{name}", "{eta}"])
def test_unknown_placeholder(docs, placeholder):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply=f"Call {placeholder} now.")))
    assert without_line(found).startswith("treatment.yaml: treatment reply: unknown placeholder {")


@pytest.mark.parametrize("placeholder", ["{Program}", "{0}", "{}", "{program.name}", "{program!r}",
                                         "{program:>200000000}", "{program.__class__}", "{{program}}",
                                         "{phone now", "phone} now"])
def test_only_bare_names_are_placeholders(docs, placeholder):
    """str.format's fields would let one text cost seconds and gigabytes ({program:>200000000}) or reach
    into objects; only {name} is a placeholder, anything else in braces is refused at once."""
    started = time.perf_counter()
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply=f"Call {placeholder} now.")))
    assert without_line(found) == ("treatment.yaml: treatment reply: a { or } that is not a placeholder "
                                   "(placeholders look like {program})")
    assert time.perf_counter() - started < 1


def test_callback_eta_only_where_a_call_back_is_queued(docs):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(reply="We call {callback_eta}.")))
    assert "unknown placeholder {callback_eta}" in found


def test_render_fills_only_known_names():
    from flows.model import fill
    assert fill("Call {phone} at {program}, {other}", {"phone": "1", "program": "P"}) == "Call 1 at P, {other}"


def test_the_menu_must_name_every_keyword_or_list_them(docs):
    docs["naloxone.yaml"] = "flow: naloxone\nkeyword: NARCAN\nsummary: naloxone\nreply: Naloxone reverses an overdose.\n"
    fixed = edit(docs, "program.yaml", lambda d: d["messages"].update(
        menu={**d["messages"]["menu"], "en": "Hi from {program}. Reply SIGNS."}))
    found = only_problem(fixed)
    assert "menu: must name every keyword, or say {keywords} to list them (missing: TREATMENT, CALL, NARCAN)" in found


def test_missing_program_yaml(docs):
    del docs["program.yaml"]
    assert only_problem(docs) == "program.yaml: missing"


@pytest.mark.parametrize("text,line", [("flow: call\nkeyword: [CALL\n", 3), ("a: b: c\n", 1), ("flow: 'open\n", 2)])
def test_invalid_yaml_says_where(docs, text, line):
    found = only_problem({**docs, "call.yaml": text})
    assert found.startswith(f"call.yaml:{line}: not valid YAML (")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n", "42\n"])
def test_yaml_that_is_not_a_mapping(docs, text):
    assert only_problem({**docs, "call.yaml": text}) == "call.yaml:1: must be a mapping of keys to values"


def test_unknown_keys(docs):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(replies="typo of reply")))
    assert without_line(found) == "treatment.yaml: unknown key 'replies'"
    found = only_problem({**docs, "checkin.yaml": CHECKIN.replace("    set: {audience: self}", "    sett: x")})
    assert found == "checkin.yaml:17: checkin step self: unknown key 'sett'"


def test_program_needs_name_phone_and_messages(docs):
    assert "program needs a name and a phone" in only_problem(edit(docs, "program.yaml",
                                                                   lambda d: d["program"].pop("phone")))
    found = only_problem(edit(docs, "program.yaml", lambda d: d["messages"].pop("help")))
    assert without_line(found) == "program.yaml: help: needs text (or text for each language, en at least)"


@pytest.mark.parametrize("part,replacement", [("{program}", "We"), ("{phone}", "us"),
                                              ("Msg&data rates may apply.", ""), ("STOP to cancel", "NO to cancel")])
def test_help_text_missing_required_parts(docs, part, replacement):
    def change(doc):
        doc["messages"]["help"]["en"] = doc["messages"]["help"]["en"].replace(part, replacement)
    expected_part = "rates may apply" if part.startswith("Msg") else part.split()[0]
    assert without_line(only_problem(edit(docs, "program.yaml", change))) == \
        f"program.yaml: help: message (en) must include {expected_part}"


def test_a_flow_needs_a_reply_or_steps(docs):
    found = only_problem(edit(docs, "call.yaml", lambda d: d.pop("reply")))
    assert without_line(found) == "call.yaml: call: needs either reply (a flow without questions) or start and steps"


def test_bad_action(docs):
    found = only_problem(edit(docs, "call.yaml", lambda d: d.update(action="sms")))
    assert without_line(found) == ("call.yaml: call: action must be 'callback' (our team phones them) or 'inbox' "
                                   "(staff see them), or absent")


@pytest.mark.parametrize("version", [0, -1, "1", 1.5])
def test_bad_version(docs, version):
    found = only_problem(edit(docs, "treatment.yaml", lambda d: d.update(version=version)))
    assert without_line(found) == "treatment.yaml: version must be a positive whole number"


def test_duplicate_flow_name_in_two_files(docs):
    other = edit(docs, "treatment.yaml", lambda d: d.update(keyword="OTHER", aliases=[], reply="Other."))
    found = problems({**docs, "treatment2.yaml": other["treatment.yaml"]})
    assert any("flow name 'treatment' is used by more than one file" in p for p in found)


def test_problems_carry_the_path_of_their_field(docs):
    with pytest.raises(FlowError) as info:
        load_documents({**docs, "checkin.yaml": CHECKIN.replace("go: other", "go: othr")})
    problem = info.value.problems[0]
    assert problem.file == "checkin.yaml" and problem.line == 12 and problem.path == ("steps", "ask", "answers", 1, "go")


@pytest.mark.parametrize("text", ["a: 1\nb:\tvalue\n", "a: 1   \t# edited\n", "flow: x\t\n", "a: \x07\n"])
def test_yaml_every_reader_of_the_flows_refuses_is_refused_with_its_line(text):
    """Tabs as spacing and control characters: refused here, as the console's other YAML readers would."""
    from flows.source import parse
    problems = []
    parse("program.yaml", text, problems)
    assert len(problems) == 1 and "not valid YAML" in problems[0]
