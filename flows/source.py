"""Flow YAML with its line numbers, and the problems found in it, each pointing at a file and a line."""
from dataclasses import dataclass

import re

import yaml

Path = tuple  # keys and list indexes from the document's root: ("steps", "ask", "answers", 0, "go")


class Problem(str):
    """One thing wrong with the flows, as a sentence that names the file, the line and the place; the
    path lets the editor show it beside the field it is about."""

    def __new__(cls, file: str, line: int | None, where: str, message: str, path: Path = ()):
        text = f"{file}{f':{line}' if line else ''}: {where + ': ' if where else ''}{message}"
        problem = super().__new__(cls, text)
        problem.file, problem.line, problem.where, problem.message, problem.path = file, line, where, message, path
        return problem


class FlowError(ValueError):
    """Every problem found in a flow set, so an editor can fix them all at once."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(problems))
        self.problems = problems


MAX_ALIASES = 100  # a flow document has no need of more; a "billion laughs" has thousands
MAX_NODES = 50_000  # nodes once every alias is expanded: far above any program's flows


class YamlTooBig(yaml.YAMLError):
    """Too many aliases, or too much once they are expanded: refused before anything walks it."""


class FlowYamlLoader(yaml.SafeLoader):  # the pure parser: libyaml's accepts tabs the editor's readers refuse
    """YAML 1.2's booleans: only true and false. YAML 1.1 also reads YES, NO, ON and OFF as booleans,
    and those are words people text (an answer list [YES, NO] would silently become [true, false]).
    Aliases are counted as they are composed (an alias bomb is refused long before it is expanded)."""

    aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise YamlTooBig(f"more than {MAX_ALIASES} aliases (*name)")
        return super().compose_node(parent, index)


def expanded_size(node) -> int:
    """How many nodes the document has once aliases are expanded, counted without expanding them (each
    shared node's size once); YamlTooBig beyond MAX_NODES or for a node that contains itself."""
    sizes: dict[int, int] = {}

    def size(n, path: set[int]) -> int:
        if id(n) in sizes:
            return sizes[id(n)]
        if id(n) in path:
            raise YamlTooBig("an alias that contains itself")
        children = [c for pair in n.value for c in pair] if isinstance(n, yaml.MappingNode) else \
            n.value if isinstance(n, yaml.SequenceNode) else []
        total = 1 + sum(size(c, path | {id(n)}) for c in children)
        if total > MAX_NODES:
            raise YamlTooBig(f"more than {MAX_NODES} values once its aliases are expanded")
        sizes[id(n)] = total
        return total
    return size(node, set()) if node is not None else 0


def load_yaml(text: str):
    """Untrusted YAML (a flow document, an import), safely: YAML 1.2 booleans, aliases bounded."""
    loader = FlowYamlLoader(text)
    try:
        node = loader.get_single_node()
        expanded_size(node)
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


FlowYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
FlowYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                     list("tTfF"))


@dataclass
class Document:
    """One YAML file: its data, where each part of it was written, and the problems found so far."""
    file: str
    data: object
    lines: dict[Path, int]
    problems: list[Problem]

    def line(self, path: Path) -> int | None:
        """The line of a path, or of its nearest written parent."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def problem(self, where: str, message: str, path: Path = ()) -> None:
        self.problems.append(Problem(self.file, self.line(path), where, message, path))


def parse(file: str, text: str, problems: list[Problem]) -> Document:
    """The document, or an empty one with a problem naming the line YAML stopped at."""
    doc = Document(file, {}, {}, problems)
    loader = None
    try:
        loader = FlowYamlLoader(text)
        node = loader.get_single_node()  # parsed once: the nodes give the lines, and then the data
        expanded_size(node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(file, mark.line + 1 if mark else None, "",
                                f"not valid YAML ({getattr(exc, 'problem', None) or str(exc).splitlines()[0]})"))
        return doc
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        problems.append(Problem(file, 1, "", "must be a mapping of keys to values"))
        return doc
    doc.data = data
    _index(node, (), doc.lines)
    return doc


def _index(node, path: Path, lines: dict[Path, int]) -> None:
    if node is None:
        return
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            lines[child] = key.start_mark.line + 1
            _index(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, path + (i,), lines)
