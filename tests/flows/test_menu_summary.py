"""The menu says what every keyword is for, from its flow's one-line summary, in the person's language;
a listed flow without one can't be published; Spanish goes out with every accent folded the same way."""
import pytest

from languages import builtin

from flows import gsm
from flows.loader import DEFINITIONS, load_documents, shippable
from flows.source import FlowError

DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}
NALOXONE = "flow: naloxone\nkeyword: {en: NALOXONE, es: NALOXONA}\nmenu: 4\nreply: {en: Free naloxone., es: Naloxona gratis.}\n"


def test_the_menu_lists_each_keyword_once_with_its_summary_in_menu_order():
    flows = load_documents({**DOCS, "naloxone.yaml": NALOXONE + "summary: {en: free naloxone near you, es: naloxona gratis}\n"})
    assert flows.menu_text("en") == ("SIGNS: the signs of heroin dependence. TREATMENT: how treatment works. "
                                     "CALL: our team phones you. NALOXONE: free naloxone near you.")
    assert flows.menu_text("es").endswith("LLAMAR: nuestro equipo le llama. NALOXONA: naloxona gratis.")
    assert flows.message("menu", "en").count("NALOXONE") == 1


def test_a_listed_keyword_without_a_summary_is_refused_on_its_flow():
    with pytest.raises(FlowError) as refused:
        load_documents({**DOCS, "naloxone.yaml": NALOXONE})
    assert refused.value.problems == [
        "naloxone.yaml:1: naloxone: summary: the menu says what every keyword is for; write one line (English) for NALOXONE"]


def test_a_flow_left_out_of_the_menu_needs_no_summary():
    flows = load_documents({**DOCS, "naloxone.yaml": NALOXONE.replace("menu: 4", "menu: false")})
    assert "NALOXONE" not in flows.message("menu", "en")


def test_a_missing_spanish_summary_is_never_shipped_but_a_live_version_from_before_still_uses_english():
    flows = load_documents({**DOCS, "naloxone.yaml": NALOXONE + "summary: free naloxone\n"})
    missing = "naloxone.yaml:5: naloxone summary: no Spanish summary (es): every language the program offers needs one"
    assert [str(w) for w in flows.warnings] == [missing]
    with pytest.raises(FlowError) as refused:
        shippable(flows)
    assert refused.value.problems == [missing]
    assert flows.menu_text("es").endswith("NALOXONA: free naloxone.")


def test_a_summary_is_one_line():
    with pytest.raises(FlowError) as refused:
        load_documents({**DOCS, "naloxone.yaml": NALOXONE + "summary: " + "x" * 61 + "\n"})
    assert "summary (en) is 61 characters; one line of the menu is at most 60" in refused.value.problems[0]


def test_a_program_menu_with_keywords_only_still_works_without_summaries():
    program = DOCS["program.yaml"].replace("Reply with one word. {menu}", "Reply with one word: {keywords}.")
    program = program.replace("Responda con una palabra.\n      {menu}", "Responda con una palabra: {keywords}.")
    flows = load_documents({**DOCS, "program.yaml": program, "naloxone.yaml": NALOXONE})
    assert "Reply with one word: SIGNS, TREATMENT, CALL or NALOXONE." in flows.message("menu", "en")


@pytest.mark.parametrize("written, sent", [
    ("médico", "medico"), ("desintoxicación", "desintoxicacion"), ("Qué Éxito", "Que Exito"),
    ("señales", "señales"), ("pingüino", "pingüino"), ("¿Cómo está? ¡Ánimo!", "¿Como esta? ¡Animo!"),
])
def test_plain_spanish_folds_every_accent_the_same_way(written, sent):
    assert builtin().as_sent(written, "es", True) == sent
    assert gsm.segment_info(sent).encoding == "GSM-7"


def test_accents_stay_when_the_program_keeps_them():
    assert builtin().as_sent("médico", "es", False) == "médico" and builtin().as_sent("médico", "en", True) == "médico"
