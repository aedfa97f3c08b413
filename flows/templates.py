"""Approved message templates: what an unprompted text becomes on a channel that allows free-form texts
only for a while after the person's last message (WhatsApp: 24 hours). A step, a timed follow-up or a
journey event may name one; without one, such a text is held (and counted) instead of sent.

    template:
      sid: HX0123456789abcdef0123456789abcdef      # or one per language: {en: HX..., es: HX...}
      variables: {"1": "{first_name}", "2": "{appointment_at}"}   # Twilio's ContentVariables, placeholders filled
"""
import re
from dataclasses import dataclass, field

CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")  # Twilio's ContentSid pattern (its OpenAPI description)
VARIABLE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
MAX_VARIABLE = 200  # characters of one filled variable


@dataclass(frozen=True)
class Template:
    sid: dict[str, str]  # language -> ContentSid (a template is approved per language)
    variables: dict[str, str] = field(default_factory=dict)  # name -> text with placeholders

    def content(self, language: str, default: str, fill) -> dict:
        """What Twilio is sent: the language's ContentSid (else the default language's) and the variables,
        each filled by `fill(text)` (the person's fields, the program's name...)."""
        sid = self.sid.get(language) or self.sid[default]
        return {"sid": sid, "variables": {name: fill(text)[:MAX_VARIABLE] for name, text in self.variables.items()}}


def parse(doc, where: str, value, path, default: str) -> Template | None:
    """A template as flow YAML writes it, or None (a problem is reported for anything malformed)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"sid", "variables"}:
        doc.problem(where, "template needs sid (a ContentSid, HX + 32 hex digits) and may have variables", path)
        return None
    sid = value.get("sid")
    sids = sid if isinstance(sid, dict) else {default: sid}
    if not sids or not all(isinstance(s, str) and CONTENT_SID.match(s) for s in sids.values()) or default not in sids:
        doc.problem(where, f"template sid must be a ContentSid (HX + 32 hex digits), {default} at least",
                    path + ("sid",))
        return None
    variables = value.get("variables") or {}
    if not isinstance(variables, dict) or not all(VARIABLE.match(str(k)) and isinstance(v, (str, int))
                                                  for k, v in variables.items()):
        doc.problem(where, "template variables map names (like \"1\") to texts", path + ("variables",))
        return None
    return Template({str(k): s for k, s in sids.items()}, {str(k): str(v) for k, v in variables.items()})


def described(content: dict) -> str:
    """What a transcript shows for a text that went as an approved template (staff see what went, not the
    free-form text that couldn't)."""
    variables = ", ".join(f"{name}: {value}" for name, value in content.get("variables", {}).items())
    return f"[approved template {content['sid']}" + (f"; {variables}]" if variables else "]")
