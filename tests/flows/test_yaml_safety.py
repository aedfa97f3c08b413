"""flows.source.load_yaml and parse on hostile YAML: alias bombs ("billion laughs") are refused quickly,
whether by their number of aliases or by what they would expand to, and a node that contains itself is
refused; ordinary YAML with a few anchors still loads; the console's YAML import answers a bomb with its
error page, never a 500."""
import io
import time

import pytest
import yaml

from flows.loader import DEFINITIONS, load_documents
from flows.source import MAX_ALIASES, MAX_NODES, FlowError, YamlTooBig, expanded_size, load_yaml, parse

QUICK = 0.5  # seconds: "well under a second", on any machine that runs the suite


def laughs(levels: int, width: int) -> str:
    """The classic: each level a list of `width` aliases of the level before (width ** levels values)."""
    lines = ['lol0: &lol0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


CLASSIC = laughs(8, 10)  # 80 aliases, 10**8 values: few aliases, far too many values
DOUBLING = laughs(40, 2)  # 80 aliases, 2**40 values
MANY = laughs(6, 20)  # 120 aliases: refused by their number alone
FLAT = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"  # tiny, but too many aliases
SELF_SEQUENCE = "a: &a [1, *a]\n"
SELF_MAPPING = "a: &a {b: 1, c: *a}\n"
NESTED_SELF = "a: &a\n  b:\n    - c: *a\n"


def refused(text: str) -> YamlTooBig:
    start = time.perf_counter()
    with pytest.raises(YamlTooBig) as caught:
        load_yaml(text)
    assert time.perf_counter() - start < QUICK
    return caught.value


def test_the_bombs_really_are_bombs():
    """What the refusals below stand for: each really is that many aliases and values."""
    assert CLASSIC.count("*") == 80 <= MAX_ALIASES and DOUBLING.count("*") == 80 <= MAX_ALIASES
    assert MANY.count("*") == 120 > MAX_ALIASES and FLAT.count("*") == MAX_ALIASES + 1
    node = yaml.compose(laughs(3, 10), Loader=yaml.SafeLoader)  # a small one, counted without expanding it
    # the mapping, its 4 keys, lol0's scalar, then lists of 1 + 10, 1 + 10 * 11 and 1 + 10 * 111 values
    assert expanded_size(node) == 1 + 4 + 1 + 11 + 111 + 1111


@pytest.mark.parametrize("text", [MANY, FLAT], ids=["many-levels", "flat"])
def test_too_many_aliases_are_refused_quickly(text):
    assert f"more than {MAX_ALIASES} aliases" in str(refused(text))


@pytest.mark.parametrize("text", [CLASSIC, DOUBLING], ids=["billion-laughs", "doubling"])
def test_few_aliases_expanding_to_too_many_values_are_refused_quickly(text):
    assert f"more than {MAX_NODES} values once its aliases are expanded" in str(refused(text))


@pytest.mark.parametrize("text", [SELF_SEQUENCE, SELF_MAPPING, NESTED_SELF], ids=["sequence", "mapping", "nested"])
def test_a_node_that_contains_itself_is_refused(text):
    assert "contains itself" in str(refused(text))


def test_it_is_a_yaml_error_so_callers_that_catch_yaml_errors_are_safe():
    assert issubclass(YamlTooBig, yaml.YAMLError)
    with pytest.raises(yaml.YAMLError):
        load_yaml(CLASSIC)


def test_a_bomb_below_a_key_or_in_a_list_is_refused_too():
    inner = "\n".join("    " + line for line in CLASSIC.splitlines())
    refused(f"flow: bomb\nsteps:\n  ask:\n{inner}\n")
    refused("- &x 1\n" + "".join("- *x\n" for _ in range(MAX_ALIASES + 1)))


def test_aliases_up_to_the_limit_are_fine():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"
    assert load_yaml(text) == {"a": "x", "b": ["x"] * MAX_ALIASES}


def test_each_load_counts_its_own_aliases():
    half = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES // 2 + 1)) + "]\n"
    for _ in range(3):  # together more than the limit, each well within it
        assert len(load_yaml(half)["b"]) == MAX_ALIASES // 2 + 1


def test_a_bomb_in_a_flow_file_is_a_problem_with_its_file_not_an_exception():
    for text in (CLASSIC, MANY, SELF_SEQUENCE):
        problems = []
        start = time.perf_counter()
        doc = parse("signs.yaml", text, problems)
        assert time.perf_counter() - start < QUICK
        assert doc.data == {} and len(problems) == 1
        assert problems[0].file == "signs.yaml" and problems[0].startswith("signs.yaml")
        assert "not valid YAML" in problems[0].message


def test_loading_a_flow_set_with_a_bomb_lists_it_as_a_problem():
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}
    docs["signs.yaml"] = CLASSIC
    start = time.perf_counter()
    with pytest.raises(FlowError) as caught:
        load_documents(docs)
    assert time.perf_counter() - start < QUICK * 2
    assert any(p.file == "signs.yaml" and f"more than {MAX_NODES} values" in p for p in caught.value.problems)


ANCHORED = """\
flow: checkin
keyword: CHECKIN
start: ask
steps:
  ask:
    text: &question
      en: Is this about you or someone you care about? Reply ME or OTHER.
      es: ¿Es sobre usted o sobre alguien que le importa? Responda YO u OTRO.
    answers:
      - match: &me {en: [ME, MYSELF], es: [YO]}
        go: self
      - match: {en: [OTHER], es: [OTRO]}
        go: other
    otherwise: ask
  self:
    text: &thanks
      en: Thank you for telling us. Reply CALL and our team will phone you.
      es: Gracias por contárnoslo. Responda LLAMAR y nuestro equipo le llamará.
  other:
    text: *thanks
summary: a quick check-in
"""


def test_ordinary_yaml_with_a_couple_of_anchors_still_loads():
    data = load_yaml(ANCHORED)
    assert data["steps"]["other"]["text"] == data["steps"]["self"]["text"]
    assert data["steps"]["other"]["text"]["es"].startswith("Gracias")
    problems = []
    doc = parse("checkin.yaml", ANCHORED, problems)
    assert problems == [] and doc.data == data
    assert doc.line(("steps", "other", "text")) == 20  # lines still point at what was written
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))}
    flowset = load_documents({**docs, "checkin.yaml": ANCHORED})
    assert "checkin" in flowset.flows and set(flowset.flows["checkin"].steps) == {"ask", "self", "other"}


def test_yaml_1_2_booleans_and_plain_documents_are_unchanged():
    assert load_yaml("answers: [YES, NO, on, off, true]") == {"answers": ["YES", "NO", "on", "off", True]}
    assert load_yaml("") is None and load_yaml("# only a comment\n") is None


def test_the_shipped_flows_load_as_ever():
    for path in sorted(DEFINITIONS.glob("*.yaml")):
        assert isinstance(load_yaml(path.read_text(encoding="utf-8")), dict), path.name


# -- the console's import ------------------------------------------------------------------------------------

@pytest.fixture
def admin(redis_url, redis, clock):
    from service.store import accounts
    from service.store.accounts import Role
    from tests.conftest import CHEAP_HASH, NOON, make_app, make_env
    from tests.staff.test_staff import PASSWORD, login
    app = make_app(make_env(redis_url), clock)
    accounts.create(redis, "admin@center.org", PASSWORD, Role.ADMIN, now=NOON, method=CHEAP_HASH)
    return login(app, "admin")


def _export() -> str:
    from service.staff import flowyaml
    return flowyaml.export({p.name: p.read_text(encoding="utf-8") for p in sorted(DEFINITIONS.glob("*.yaml"))})


@pytest.mark.parametrize("bomb", [
    "--- # program.yaml\n" + MANY,  # a named document
    "--- # program.yaml\n" + CLASSIC,
    "--- # program.yaml\n" + SELF_MAPPING,
    CLASSIC,  # no header: its name can't be read from it
    "documents:\n" + "\n".join("  " + line for line in CLASSIC.splitlines()) + "\n",  # the older format
], ids=["aliases", "values", "self", "unnamed", "old-format"])
def test_importing_a_bomb_answers_the_error_page_never_a_500(admin, redis, bomb):
    from service.store import flowdocs
    start = time.perf_counter()
    response = admin.post("/staff/flows/import", data={"csrf_token": admin.token, "text": bomb})
    assert time.perf_counter() - start < QUICK * 2
    page = response.get_data(as_text=True)
    assert response.status_code in (400, 422) and "Not imported" in page
    assert flowdocs.draft(redis) is None  # nothing changed
    assert admin.get("/staff/flows/").status_code == 200  # and the console still works


def test_a_bomb_inside_an_otherwise_good_export_is_named_with_its_file(admin, redis):
    from service.store import flowdocs
    good = _export()
    parts = good.split("--- # ")
    parts = [f"signs.yaml\n{CLASSIC}" if part.startswith("signs.yaml\n") else part for part in parts]
    bombed = "--- # ".join(parts)
    assert "lol8" in bombed and "--- # treatment.yaml" in bombed
    response = admin.post("/staff/flows/import", data={"csrf_token": admin.token,
                                                       "file": (io.BytesIO(bombed.encode()), "flows.yaml")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "signs.yaml" in page and f"more than {MAX_NODES}" in page
    assert flowdocs.draft(redis) is None
    ok = admin.post("/staff/flows/import", data={"csrf_token": admin.token, "text": good})
    assert ok.status_code == 302 and flowdocs.draft(redis) is not None  # the good export still imports


def test_a_headerless_document_at_the_top_is_reported_at_line_1(admin):
    response = admin.post("/staff/flows/import", data={"csrf_token": admin.token, "text": "foo: bar\n"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "line 1: a document without" in page
