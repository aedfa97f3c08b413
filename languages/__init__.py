"""The languages a deployment speaks, one YAML file each: the engine names no language and asks these."""
from languages.registry import Language, LanguageError, Languages, builtin, for_flows, load

__all__ = ["Language", "LanguageError", "Languages", "builtin", "for_flows", "load"]
