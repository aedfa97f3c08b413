"""flows.matching.match against the real flow set, and the edit-distance helper it relies on."""
import pytest

from flows.loader import load_directory
from flows.matching import TYPO_MIN_LENGTH, Intent, Match, match, within_one_edit, words
from languages import builtin

OPT_OUT_WORDS, OPT_IN_WORDS, HELP_WORDS = (builtin().words(k) for k in ("opt_out", "opt_in", "help"))
RESERVED_WORDS = builtin().reserved


@pytest.fixture(scope="module")
def triggers() -> dict[str, str]:
    return load_directory().triggers


def flow_of(text: str, triggers: dict[str, str]) -> str | None:
    m = match(text, triggers)
    return m.flow if m.intent is Intent.FLOW else None


# -- exact keywords and aliases ---------------------------------------------------------------------

@pytest.mark.parametrize("body,flow,word", [
    ("SIGNS", "signs", "SIGNS"),
    ("signs", "signs", "SIGNS"),
    ("Signs", "signs", "SIGNS"),
    ("sIgNs", "signs", "SIGNS"),
    ("SIGN", "signs", "SIGN"),
    ("SYMPTOMS", "signs", "SYMPTOMS"),
    ("symptom", "signs", "SYMPTOM"),
    ("Warning", "signs", "WARNING"),
    ("TREATMENT", "treatment", "TREATMENT"),
    ("TREAT", "treatment", "TREAT"),
    ("rehab", "treatment", "REHAB"),
    ("Detox", "treatment", "DETOX"),
    ("options", "treatment", "OPTIONS"),
    ("RECOVERY", "treatment", "RECOVERY"),
    ("CALL", "call", "CALL"),
    ("call", "call", "CALL"),
    ("CALLME", "call", "CALLME"),
    ("callback", "call", "CALLBACK"),
    ("HELPLINE", "call", "HELPLINE"),
    ("Helpline", "call", "HELPLINE"),
    ("phone", "call", "PHONE"),
    ("TALK", "call", "TALK"),
])
def test_keywords_and_aliases_match_case_insensitively(triggers, body, flow, word):
    assert match(body, triggers) == Match(Intent.FLOW, word, flow)


@pytest.mark.parametrize("body,flow", [
    ("signs?", "signs"),
    (" Signs please", "signs"),
    ("SIGNS!!!", "signs"),
    ("...signs...", "signs"),
    ("'signs'", "signs"),
    ("\"treatment\"", "treatment"),
    ("call.", "call"),
    ("call me please", "call"),
    ("Call me back when you can", "call"),
    ("\n\tTREATMENT\n", "treatment"),
    ("🙏 signs 🙏 ñ", "signs"),
    ("signs and treatment", "signs"),
    ("treatment signs", "treatment"),
    ("sign-up", "signs"),
    ("_signs_", "signs"),
    ("ＳＩＧＮＳ", "signs"),  # full-width letters fold to ASCII (NFKC)
])
def test_first_word_with_punctuation_and_emoji_dropped(triggers, body, flow):
    assert flow_of(body, triggers) == flow


@pytest.mark.parametrize("body", ["please call me", "I need signs", "what about treatment", "hi, SIGNS"])
def test_only_the_first_word_counts(triggers, body):
    assert match(body, triggers).intent is Intent.UNKNOWN


def test_words_splits_upper_cases_and_drops_punctuation():
    assert words(" Signs, please?! 🙏 ") == ["SIGNS", "PLEASE"]
    assert words("don't") == ["DON", "T"]
    assert words("🙏🙏") == []
    assert words("") == []


# -- typo tolerance -----------------------------------------------------------------------------------

@pytest.mark.parametrize("body,flow,word", [
    ("sings", "signs", "SIGNS"),          # adjacent swap
    ("sigsn", "signs", "SIGNS"),          # adjacent swap at the end
    ("signz", "signs", "SIGNS"),          # substitution
    ("signss", "signs", "SIGNS"),         # insertion
    ("sigs", "signs", "SIGNS"),           # deletion (4-letter input, 5-letter keyword)
    ("symptons", "signs", "SYMPTOMS"),    # substitution
    ("symtoms", "signs", "SYMPTOMS"),     # deletion
    ("warnin", "signs", "WARNING"),       # deletion at the end
    ("treatmnet", "treatment", "TREATMENT"),
    ("treatmen", "treatment", "TREATMENT"),
    ("tretment", "treatment", "TREATMENT"),
    ("treatement", "treatment", "TREATMENT"),
    ("tret", "treatment", "TREAT"),       # deletion from a 5-letter alias
    ("rehb", "treatment", "REHAB"),
    ("detx", "treatment", "DETOX"),
    ("optiosn", "treatment", "OPTIONS"),
    ("recovry", "treatment", "RECOVERY"),
    ("calme", "call", "CALLME"),
    ("callbak", "call", "CALLBACK"),
    ("helpine", "call", "HELPLINE"),
    ("phne", "call", "PHONE"),
    ("pohne", "call", "PHONE"),
])
def test_one_typo_in_keywords_of_five_or_more_letters(triggers, body, flow, word):
    assert match(body, triggers) == Match(Intent.FLOW, word, flow)


@pytest.mark.parametrize("body", [
    "sgnis",        # two edits from SIGNS
    "snigs",        # non-adjacent swap
    "singss",       # swap plus insertion
    "trtmnt",       # several deletions
    "signals",
    "sin",          # too short for any typo
    "si",
])
def test_more_than_one_edit_does_not_match(triggers, body):
    assert match(body, triggers).intent is Intent.UNKNOWN


@pytest.mark.parametrize("body", [
    "cal", "caal", "calll", "cll", "clal", "acll",     # CALL: 4 letters, exact only
    "tallk", "talks", "tak", "tlak",                  # TALK: 4 letters, exact only
    "sig", "sgn", "sing", "sigh", "sgin",        # SIGN: 4 letters, exact only (and not near SIGNS)
])
def test_keywords_shorter_than_five_letters_need_an_exact_match(triggers, body):
    assert match(body, triggers).intent is Intent.UNKNOWN


def test_typo_threshold_is_five_letters():
    assert TYPO_MIN_LENGTH == 5


def test_ambiguous_typo_matches_nothing():
    triggers = {"ALPHA": "one", "ALPHO": "two"}
    assert match("alphx", triggers).intent is Intent.UNKNOWN
    assert match("alpha", triggers) == Match(Intent.FLOW, "ALPHA", "one")


def test_typo_near_two_keywords_of_the_same_flow_still_matches():
    triggers = {"ALPHA": "one", "ALPHO": "one"}
    assert match("alphx", triggers) == Match(Intent.FLOW, "ALPHA", "one")


def test_exact_keyword_beats_typo():
    triggers = {"SIGNS": "signs", "SINGS": "songs"}
    assert match("sings", triggers) == Match(Intent.FLOW, "SINGS", "songs")


# -- compliance keywords --------------------------------------------------------------------------------

@pytest.mark.parametrize("body,word", [
    ("STOP", "STOP"), ("stop", "STOP"), ("Stop.", "STOP"), ("STOP texting me", "STOP"), ("  stop!! ", "STOP"),
    ("STOPALL", "STOPALL"), ("stopall", "STOPALL"),
    ("UNSUBSCRIBE", "UNSUBSCRIBE"), ("Unsubscribe", "UNSUBSCRIBE"),
    ("CANCEL", "CANCEL"), ("cancel", "CANCEL"),
    ("END", "END"), ("end", "END"),
    ("QUIT", "QUIT"), ("quit", "QUIT"),
    ("OPTOUT", "OPTOUT"), ("optout", "OPTOUT"),
    ("opt out", "OPTOUT"), ("Opt Out", "OPTOUT"), ("OPT-OUT", "OPTOUT"), ("opt out please", "OPTOUT"),
    ("REVOKE", "REVOKE"), ("revoke", "REVOKE"),
])
def test_opt_out_words(triggers, body, word):
    assert match(body, triggers) == Match(Intent.OPT_OUT, word)


@pytest.mark.parametrize("body,word", [
    ("START", "START"), ("start", "START"), ("Start!", "START"),
    ("YES", "YES"), ("yes", "YES"), ("Yes please", "YES"),
    ("UNSTOP", "UNSTOP"), ("unstop", "UNSTOP"),
])
def test_opt_in_words(triggers, body, word):
    assert match(body, triggers) == Match(Intent.OPT_IN, word)


@pytest.mark.parametrize("body,word", [
    ("HELP", "HELP"), ("help", "HELP"), ("Help?", "HELP"), ("help me", "HELP"),
    ("INFO", "INFO"), ("info", "INFO"),
])
def test_help_words(triggers, body, word):
    assert match(body, triggers) == Match(Intent.HELP, word)


@pytest.mark.parametrize("body", [
    "STAR", "STARTT", "STRAT", "SATRT",
    "STO", "STOPS", "CANCLE", "CANCELL", "QUITE", "ENDS", "REVOK", "OPTOU",
    "YESS", "YE", "UNSTOPP",
    "HELPP", "HLEP", "HEL", "INFOS", "INF",
    "OPT", "OPT IN", "OUT",
])
def test_compliance_words_only_match_exactly(triggers, body):
    assert match(body, triggers).intent is Intent.UNKNOWN


@pytest.mark.parametrize("body", ["STOPP", "Stopp", "STPO", "SOTP", "UNSUBSCRIB", "UNSUSBCRIBE", "Unsubcribe"])
def test_a_whole_message_that_is_a_misspelt_stop_is_a_request_to_stop(triggers, body):
    """Not the STOP keyword (compliance words match exactly), but plainly a request to stop: revoked."""
    assert match(body, triggers) == Match(Intent.OPT_OUT, "REVOKE_PHRASE")


@pytest.mark.parametrize("word", sorted(RESERVED_WORDS))
def test_reserved_words_never_route_to_a_flow(triggers, word):
    assert word not in triggers
    assert match(word, triggers).intent in (Intent.OPT_OUT, Intent.OPT_IN, Intent.HELP)


def test_compliance_wins_over_flow_keywords():
    triggers = {"STOP": "oops", "HELP": "oops"}
    assert match("stop", triggers).intent is Intent.OPT_OUT
    assert match("help", triggers).intent is Intent.HELP


def test_reserved_word_sets():
    assert OPT_OUT_WORDS == {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE",
                             "PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER"}
    assert OPT_IN_WORDS == {"START", "YES", "UNSTOP", "COMENZAR", "INICIAR"}
    assert HELP_WORDS == {"HELP", "INFO", "AYUDA"}


# -- empty and unknown ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["", " ", "\n\t ", "🙏", "🙏🙏 ❤️", "?!", "...", "---", "👍🏽", "_", "__"])
def test_empty_or_emoji_only_is_empty(triggers, body):
    assert match(body, triggers) == Match(Intent.EMPTY)


@pytest.mark.parametrize("body,word", [
    ("hello", "HELLO"), ("Hi there", "HI"), ("123", "123"), ("CALL911", "CALL911"),
    ("signal", "SIGNAL"), ("é", "E"), ("don't", "DON"), ("?? what", "WHAT"),
])
def test_unknown_words(triggers, body, word):
    assert match(body, triggers) == Match(Intent.UNKNOWN, word)


# -- within_one_edit --------------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [
    ("SIGNS", "SIGNS"),
    ("", ""),
    ("SIGNS", "SIGNZ"),     # substitution
    ("SIGNS", "XIGNS"),     # substitution at the start
    ("SIGNS", "SIGNSS"),    # insertion at the end
    ("SIGNS", "XSIGNS"),    # insertion at the start
    ("SIGNS", "SIGXNS"),    # insertion in the middle
    ("SIGNS", "SIGS"),      # deletion
    ("SIGNS", "IGNS"),      # deletion at the start
    ("SIGNS", "SINGS"),     # adjacent swap
    ("SIGNS", "ISGNS"),     # adjacent swap at the start
    ("SIGNS", "SIGSN"),     # adjacent swap at the end
    ("AB", "BA"),
    ("A", ""),
    ("", "A"),
])
def test_within_one_edit_true(a, b):
    assert within_one_edit(a, b)
    assert within_one_edit(b, a)


@pytest.mark.parametrize("a,b", [
    ("SIGNS", "SGINZ"),     # swap plus substitution
    ("SIGNS", "SNGIS"),     # non-adjacent swap
    ("SIGNS", "SIXNZ"),     # two substitutions
    ("SIGNS", "SIG"),       # two deletions
    ("SIGNS", "SIGNSXX"),   # two insertions
    ("SIGNS", "XSIGNSX"),
    ("SIGNS", "IGNSX"),     # deletion plus insertion
    ("ABC", "CBA"),
    ("AB", ""),
    ("ABCD", "BADC"),       # two adjacent swaps
])
def test_within_one_edit_false(a, b):
    assert not within_one_edit(a, b)
    assert not within_one_edit(b, a)
