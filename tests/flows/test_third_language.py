"""A third language by files alone: Portuguese (tests/fixtures/portuguese: its language file beside a
program's flows) is read, matched, answered, folded and checked like English and Spanish, with no code
naming it; the loader refuses a program whose languages are missing or half-written."""
import ast
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows import gsm
from flows.engine import Consent, Conversation, Policy, Texter, decide
from flows.fields import FieldType, display
from flows.hours import callback_eta, parse_weekly
from flows.loader import FlowError, load_directory, load_documents
from flows.matching import Intent
from flows.reading import RULES_ONLY
from languages import LanguageError, builtin, for_flows, load

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "portuguese"
NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=NY)  # a Wednesday, staff in
POLICY = Policy(parse_weekly("Mon-Fri 09:00-17:00"))
LANGUAGES = for_flows(FIXTURE)
FLOWS = load_directory(FIXTURE, LANGUAGES)


def run(body: str, who: Texter | None = None, now: datetime = NOW):
    return decide(FLOWS, POLICY, who or Texter(Consent.SUBSCRIBED, False), body, now, RULES_ONLY)


def pt(who: Conversation | None = None, **kwargs) -> Texter:
    return Texter(Consent.SUBSCRIBED, False, language="pt", conversation=who, **kwargs)


def test_the_language_file_beside_the_flows_adds_portuguese_and_the_shipped_ones_stay():
    assert [language.code for language in LANGUAGES.all] == ["en", "es", "pt"]
    assert [language.code for language in builtin().all] == ["en", "es"]
    assert FLOWS.program.languages == ("en", "es", "pt") and FLOWS.warnings == ()


def test_a_portuguese_keyword_answers_in_portuguese_and_remembers_it():
    d = run("sinais")
    assert d.language == "pt" and d.replies[0].startswith("Com quem voce se preocupa")


def test_a_portuguese_answer_picks_its_branch():
    asked = Conversation("signs", "ask", NOW.timestamp() - 60)
    assert run("outra pessoa", pt(asked)).replies[0].startswith("Os sinais incluem")
    assert run("eu", pt(asked)).replies[0].startswith("Obrigado pela confianca")


@pytest.mark.parametrize("body", ["SAIR", "sair", "Pare", "DESCADASTRAR", "nao me mandem mais mensagens", "parem"])
def test_portuguese_opt_outs(body):
    d = run(body)
    assert d.intent is Intent.OPT_OUT and d.consent is Consent.OPTED_OUT
    assert d.replies == (FLOWS.message("stop", "pt"),)


def test_an_everyday_portuguese_word_opts_out_only_as_the_whole_message():
    assert run("pare de usar heroina como").intent is not Intent.OPT_OUT


def test_stop_still_works_for_a_portuguese_speaker_and_answers_in_portuguese():
    d = run("STOP", pt())
    assert d.intent is Intent.OPT_OUT and d.replies == (FLOWS.message("stop", "pt"),)


def test_ajuda_is_portuguese_help_and_voltar_resubscribes():
    assert run("AJUDA").replies[0] == FLOWS.message("help", "pt")
    d = run("voltar", Texter(Consent.OPTED_OUT, False))
    assert d.consent is Consent.SUBSCRIBED and d.language == "pt"


def test_asking_for_portuguese_by_name_switches_and_says_so_in_portuguese():
    d = run("portugues", Texter(Consent.SUBSCRIBED, False, language="es"))
    assert d.language == "pt" and d.replies == (FLOWS.message("language", "pt"),)
    assert run("voces falam portugues?").language == "pt"


@pytest.mark.parametrize("body", ["meu filho nao esta respirando", "ela tem os labios roxos", "acho que foi sobredose"])
def test_portuguese_crisis_words_get_the_portuguese_crisis_answer_at_once(body):
    d = run(body)
    assert d.opens_crisis and d.language == "pt"
    assert d.replies[0].startswith("Se alguem teve uma overdose ou nao respira, ligue 911 agora")


def test_words_of_suicide_in_portuguese_get_its_988_first_answer_from_its_file():
    d = run("eu quero morrer")
    assert d.opens_crisis and d.language == "pt" and d.replies[0].startswith("Que bom que voce escreveu")
    assert run("nao aguento mais", pt(crisis_open=True, crisis_kind="self_harm")).replies[0].startswith(
        "Estamos com voce")


def test_news_in_an_open_portuguese_crisis_is_thanked_and_a_doubt_is_not_news():
    open_crisis = pt(crisis_open=True)
    assert run("ele esta respirando agora", open_crisis).replies[0].startswith("Obrigado por avisar")
    assert not run("ele esta respirando mas mal", open_crisis).replies[0].startswith("Obrigado por avisar")


def test_a_portuguese_call_back_promise_is_in_portuguese_and_its_follow_up_says_how_to_stop():
    d = run("LIGAR")
    assert d.language == "pt" and "vai ligar para voce em cerca de 30 minutos" in d.replies[0]
    evening = datetime(2025, 1, 17, 18, 0, tzinfo=NY)  # Friday evening: Monday
    assert callback_eta(evening, POLICY.business_hours, 30, "pt", LANGUAGES) == \
        "depois das 9:00 (EST) na segunda-feira"


def test_portuguese_dates_and_lists_are_portuguese():
    assert display(FieldType.DATETIME, "2026-12-08T14:30:00-05:00", NY, "pt", LANGUAGES) == \
        "terça-feira, 8 de dezembro às 14:30"
    assert FLOWS.join(["SINAIS", "LIGAR"], "pt") == "SINAIS ou LIGAR"


def test_every_portuguese_text_goes_out_plain_gsm7():
    texts = [FLOWS.render(FLOWS.message(m, "pt"), language="pt", flagged="") for m in FLOWS.program.messages]
    texts += [r for body in ("sinais", "LIGAR", "AJUDA") for r in run(body).replies]
    assert all(gsm.segment_info(t).encoding == "GSM-7" for t in texts)
    assert LANGUAGES.as_sent("informação não", "pt", True) == "informacao nao"
    assert LANGUAGES.as_sent("informação", "pt", False) == "informação"


def test_spanish_and_english_still_read_the_same_beside_portuguese():
    assert run("PARAR").language == "es" and run("STOP").language == ""
    assert run("señales").language == "es"
    assert run("no respira").language == "es"


# -- the loader refuses what isn't there ------------------------------------------------------------------

def _copy(tmp_path: Path, languages: bool = True) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(FIXTURE, folder)
    if not languages:
        shutil.rmtree(folder / "languages")
    return folder


def test_a_program_offering_a_language_without_its_file_is_refused(tmp_path):
    folder = _copy(tmp_path, languages=False)
    with pytest.raises(FlowError) as e:
        load_directory(folder, for_flows(folder))
    assert "languages must be among en, es" in str(e.value)


def test_a_program_missing_a_compliance_text_in_one_of_its_languages_is_refused(tmp_path):
    folder = _copy(tmp_path)
    program = (folder / "program.yaml").read_text(encoding="utf-8")
    (folder / "program.yaml").write_text(program.replace(
        "    pt: Você não receberá mais mensagens de {program}. Para voltar, responda VOLTAR.\n", ""), encoding="utf-8")
    with pytest.raises(FlowError) as e:
        load_directory(folder, for_flows(folder))
    assert "needs its Portuguese text (pt)" in str(e.value)


def test_a_compliance_text_must_say_what_its_language_file_requires(tmp_path):
    folder = _copy(tmp_path)
    program = (folder / "program.yaml").read_text(encoding="utf-8")
    (folder / "program.yaml").write_text(program.replace("Para voltar, responda VOLTAR.", "Tchau."), encoding="utf-8")
    with pytest.raises(FlowError) as e:
        load_directory(folder, for_flows(folder))
    assert "message (pt) must include VOLTAR" in str(e.value)


@pytest.mark.parametrize("change, error", [
    (("  callback:\n    soon:", "  callbacks:\n    soon:"), "texts.callback is missing"),
    (("opens: depois das {clock}", "opens: depois das {hora}"), "texts.callback.opens may only use"),
    (("soon: em cerca de {minutes} minutos", "soon: em cerca de {minutos} minutos"), "texts.callback.soon"),
    (("opt_out: [SAIR, PARE, DESCADASTRAR]", "opt_out: SAIR"), "keywords.opt_out must be a list of words"),
    (("polite: [POR, FAVOR]", "polite: [POR, NO]"), "quote YES, NO"),
    (("days: [segunda-feira, ", "days: ["), "7 days"),
    (("to: aaaaeeioooucAAAAEEIOOOU", "to: aeiou"), "gsm.plain"),
    (("read: folded", "read: Folded"), "crisis.read"),
    (("code: pt", "code: pt-BR"), "code must be the file's name"),
    (("  - '\\bSOBREDOSE\\b'", "  - '\\bSOBRE(DOSE'"), "crisis.phrases"),
    (("english_name: Portuguese\n", "english_name: Portuguese\nspeling: x\n"), "unknown key 'speling'"),
])
def test_a_broken_language_file_is_refused_naming_the_key(tmp_path, change, error):
    folder = _copy(tmp_path)
    path = folder / "languages" / "pt.yaml"
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(*change), encoding="utf-8")
    with pytest.raises(LanguageError) as e:
        load(folder / "languages")
    assert error in str(e.value) and "pt.yaml" in str(e.value)


def test_a_flow_text_in_a_language_no_file_describes_is_refused():
    sinais = (FIXTURE / "sinais.yaml").read_text(encoding="utf-8").replace("pt: SINAIS}", "pt: SINAIS, br: SINAL}")
    documents = {p.name: p.read_text(encoding="utf-8") for p in FIXTURE.glob("*.yaml")}
    with pytest.raises(FlowError) as e:
        load_documents({**documents, "sinais.yaml": sinais}, LANGUAGES)
    assert "'br' is not a language" in str(e.value)


def test_words_are_read_as_people_write_them_whatever_case_or_accents_the_file_uses(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "languages" / "pt.yaml"
    text = path.read_text(encoding="utf-8").replace("opt_out: [SAIR, PARE, DESCADASTRAR]", "opt_out: [sair, SAÍDA, pare]")
    path.write_text(text.replace("only: [meu, minha,", "only: [MEU, Minha,"), encoding="utf-8")
    known = load(folder / "languages")
    assert {"SAIR", "SAIDA", "PARE"} <= known["pt"].words["opt_out"] and {"meu", "minha"} <= known["pt"].only


def test_curly_apostrophes_read_like_straight_ones_in_a_plea_for_help():
    from understanding.phrases import seeks_emergency_help
    assert seeks_emergency_help("narcan isn\u2019t working") and seeks_emergency_help("narcan isn't working")


# -- the engine names no language ------------------------------------------------------------------------

ENGINE = [*sorted((ROOT / "flows").glob("*.py")), *sorted((ROOT / "understanding").glob("*.py")),
          *sorted((ROOT / "languages").glob("*.py"))]


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_engine_module_spells_a_language_code(path):
    """Languages are files: no string in the engine's code is "es" or "pt" (English stays the format's
    default language when a program.yaml names none)."""
    found = [node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and node.value in ("es", "pt")]
    assert found == []
