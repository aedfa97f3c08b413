"""Every language a deployment reads, together: a compliance word or a plea to stop is honoured in any of
them (a missed STOP harms), whichever languages a program texts in; the texts are each language's own."""
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from languages.language import Language, LanguageError, read
from understanding.text import plain as fold, plain_words as words

BUILT_IN = Path(__file__).parent

__all__ = ["Language", "LanguageError", "Languages", "builtin", "for_flows", "load"]


def load(*folders: Path) -> "Languages":
    """The languages in these folders' <code>.yaml files; a later folder's file replaces an earlier one's."""
    found: dict[str, Language] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            language = read(path)
            found[language.code] = language
    if not found:
        raise LanguageError(f"no language files in {', '.join(map(str, folders))}")
    return Languages(tuple(found[code] for code in sorted(found)))


def for_flows(flows_dir: Path) -> "Languages":
    """The shipped languages and a deployment's own (FLOWS_DIR/languages/<code>.yaml), which may add a
    language or replace a shipped one."""
    own = Path(flows_dir) / "languages"
    return load(BUILT_IN, own) if own.is_dir() and any(own.glob("*.yaml")) else builtin()


@lru_cache(maxsize=1)
def builtin() -> "Languages":
    """The languages shipped with the service (languages/*.yaml), read once per process."""
    return load(BUILT_IN)


@dataclass(frozen=True, eq=False)
class Languages:
    all: tuple[Language, ...]

    def __getitem__(self, code: str) -> Language:
        return self.by_code[code]

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    @cached_property
    def by_code(self) -> dict[str, Language]:
        return {language.code: language for language in self.all}

    def words(self, kind: str) -> frozenset[str]:
        """One kind of word (opt_out, help, polite...), in every language."""
        return self._words[kind]

    @cached_property
    def _words(self) -> dict[str, frozenset[str]]:
        kinds = {k for language in self.all for k in language.words}
        return {k: frozenset().union(*(language.words[k] for language in self.all)) for k in kinds}

    @cached_property
    def reserved(self) -> frozenset[str]:
        return self.words("opt_out") | self.words("opt_in") | self.words("help")

    @cached_property
    def how_to_stop(self) -> frozenset[str]:
        """Every language's words for how to stop (texts.how_to_stop): a text naming one says it."""
        return frozenset(w for language in self.all for w in language.texts["how_to_stop"])

    @cached_property
    def switch(self) -> dict[str, str]:
        """A language asked for by name ("ESPANOL", "SPANISH") -> its code."""
        return {word: language.code for language in self.all for word in language.words["switch"]}

    def word_language(self, word: str) -> str:
        """The language a compliance word says a text is in ("PARAR": es); "" for everyone's (STOP) or
        a word two languages share."""
        owners = {language.code for language in self.all if not language.neutral
                  and any(word in language.words[k] for k in ("opt_out", "opt_in", "help"))}
        return owners.pop() if len(owners) == 1 else ""

    def request(self, kind: str, joined: str, whole: bool = False) -> Language | None:
        """The first language whose requests of this kind match the upper-cased words (`whole`: from the start)."""
        for language in self.all:
            pattern = language.requests[kind]
            if pattern is not None and (pattern.match(joined) if whole else pattern.search(joined)):
                return language
        return None

    def crisis(self, kind: str, text: str) -> frozenset[str]:
        """The languages whose crisis cues of this kind (phrases, seeking, news, doubt...) are in the text."""
        return frozenset(language.code for language, read in self._crisis_reads(text)
                         if language.crisis[kind] is not None and language.crisis[kind].search(read))

    def overdose(self, text: str) -> bool:
        """Crisis phrases beside the words of suicide or self-harm (crisis.self_harm): an overdose, not
        breathing, not waking ("i took 30 pills i want to die": an overdose first)."""
        for language, read in self._crisis_reads(text):
            phrases, own = language.crisis["phrases"], language.crisis["self_harm"]
            if phrases is not None and phrases.search(own.sub(" ", read) if own is not None else read):
                return True
        return False

    def _crisis_reads(self, text: str):
        """Each language with the text as its crisis cues read it: as written, or folded (crisis.read)."""
        as_written = unicodedata.normalize("NFKC", text).replace("\u2019", "'")
        folded = " ".join(fold(text).split())
        return ((language, as_written if language.read_as_written else folded) for language in self.all)

    def looks(self, text: str, code: str, at_least: int = 1) -> bool:
        """More of a message's words are this language's alone than any other's (and at least `at_least`)."""
        found = words(text)
        counts = {language.code: sum(w in language.sentences for w in found) for language in self.all}
        mine = counts.pop(code, 0)
        return mine >= at_least and all(mine > other for other in counts.values())

    @cached_property
    def fallback(self) -> Language:
        """The language an unknown code's texts come from (a stored language no longer read): the one whose
        compliance words are everyone's (the carriers' STOP and HELP), else the first."""
        return next((language for language in self.all if language.neutral), self.all[0])

    def text(self, code: str, key: str, default=None):
        """One of a language's texts (texts.<key>); an unknown language's are the fallback's."""
        language = self.by_code.get(code) or self.fallback
        return language.texts[key] if default is None else language.texts.get(key, default)

    def as_sent(self, text: str, code: str, plain: bool) -> str:
        """The text as it will go out: without the accents GSM-7 lacks, when the program keeps texts plain."""
        language = self.by_code.get(code)
        return text.translate(language.plain) if plain and language is not None and language.plain else text

    def kept_accents(self, code: str) -> frozenset[str]:
        language = self.by_code.get(code)
        return language.kept if language is not None else frozenset()

    def name(self, code: str) -> str:
        """As staff read it: "Spanish"; an unknown code as it is."""
        language = self.by_code.get(code)
        return language.english_name if language is not None else code
