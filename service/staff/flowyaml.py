"""The flows as one YAML file people can read and edit: one YAML document per flow file, each headed by
its name (`--- # signs.yaml`). Importing splits it back, and problems point at the lines of the file
that was imported (an export made before this format, {documents: {name: yaml}}, still imports)."""
import re

import yaml

from flows.source import load_yaml

HEADER = "# Flows export: one YAML document per file. Edit it and import it again (Flows > Import).\n"
SEPARATOR = re.compile(r"^---\s*(#\s*(?P<name>[a-z0-9_]+\.yaml))?\s*$")


def export(docs: dict[str, str]) -> str:
    names = ["program.yaml"] + sorted(n for n in docs if n != "program.yaml")
    return HEADER + "".join(f"--- # {name}\n{docs[name].rstrip()}\n" for name in names if name in docs)


def parse(text: str) -> tuple[dict[str, str], dict[str, int], list[str]]:
    """{file name: its YAML}, where each starts in the imported text, and problems with the file's lines."""
    if SEPARATOR.match(text.lstrip().splitlines()[0] if text.strip() else "") is None and "documents:" in text[:200]:
        return _old_format(text)
    docs, starts, problems, current, lines, start = {}, {}, [], None, [], 1
    for number, line in enumerate(text.splitlines() + ["---"], 1):
        match = SEPARATOR.match(line)
        if match is None:
            lines.append(line)
            continue
        if current is not None or any(l.strip() and not l.lstrip().startswith("#") for l in lines):
            name = current or _name_of("\n".join(lines))
            if name is None:
                problems.append(f"line {start}: a document without a `--- # name.yaml` line or a `flow:` key")
            elif name in docs:
                problems.append(f"line {start}: {name} appears twice")
            else:
                docs[name], starts[name] = "\n".join(lines) + "\n", start
        current, lines, start = match.group("name"), [], number + 1
    return docs, starts, problems


def located(problems: list, starts: dict[str, int]) -> list[str]:
    """The loader's problems with the imported file's line numbers."""
    out = []
    for problem in problems:
        file, line = getattr(problem, "file", ""), getattr(problem, "line", None)
        if file in starts and line:
            where = f"{problem.where}: " if problem.where else ""
            out.append(f"line {starts[file] + line - 1} ({file} line {line}): {where}{problem.message}")
        else:
            out.append(str(problem))
    return out


def _name_of(text: str) -> str | None:
    try:
        doc = load_yaml(text)
    except yaml.YAMLError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("flow"), str):
        return doc["flow"].strip().lower() + ".yaml"
    return "program.yaml" if isinstance(doc, dict) and "program" in doc else None


def _old_format(text: str) -> tuple[dict[str, str], dict[str, int], list[str]]:
    try:
        docs = load_yaml(text)["documents"]
        if isinstance(docs, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in docs.items()):
            return docs, {}, []
    except (yaml.YAMLError, TypeError, KeyError):
        pass
    return {}, {}, ["that is not a flows export (documents headed `--- # name.yaml`)"]
