"""Regenerate twilio_api_v2010_subset.json from Twilio's full OpenAPI description (not run by the tests).

    python tests/fakes/extract_openapi.py PATH/TO/twilio_api_v2010.json

The full file comes from github.com/twilio/twilio-oai (spec/json/twilio_api_v2010.json, Apache-2.0). The
subset keeps the operations the fake serves and every schema they reference.
"""
import json
import sys
from pathlib import Path

OPERATIONS = {
    "/2010-04-01/Accounts/{AccountSid}/Messages.json": ["post", "get"],
    "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json": ["delete"],
    "/2010-04-01/Accounts/{Sid}.json": ["get"],
}
OUT = Path(__file__).with_name("twilio_api_v2010_subset.json")
SOURCE = ("Extracted from Twilio's OpenAPI description of its REST API v2010, github.com/twilio/twilio-oai, "
          "spec/json/twilio_api_v2010.json, licensed Apache-2.0 (https://www.apache.org/licenses/LICENSE-2.0.html). "
          "Only the operations our fake serves are kept: Create, List and Delete Message, Fetch Account. "
          "Regenerate with tests/fakes/extract_openapi.py.")


def refs_in(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(value.rsplit("/", 1)[-1]) if key == "$ref" else refs_in(value, found)
    elif isinstance(node, list):
        for value in node:
            refs_in(value, found)
    return found


def extract(spec: dict) -> dict:
    out = {"x-source": SOURCE, "openapi": spec["openapi"], "info": spec["info"], "paths": {},
           "components": {"schemas": {}}}
    for path, ops in OPERATIONS.items():
        out["paths"][path] = {op: spec["paths"][path][op] for op in ops}
    todo = refs_in(out["paths"], set())
    while todo:
        name = todo.pop()
        schema = out["components"]["schemas"][name] = spec["components"]["schemas"][name]
        todo |= refs_in(schema, set()) - set(out["components"]["schemas"])
    return out


if __name__ == "__main__":
    OUT.write_text(json.dumps(extract(json.loads(Path(sys.argv[1]).read_text())), indent=1, sort_keys=True))
