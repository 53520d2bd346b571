"""Explanations for people: one household's decision told from its trace, in Chinese (default)
or English, with the rule and article behind each step."""

from fangpin_rules.explain.account import LANGS, explain
from fangpin_rules.explain.render import render_text

__all__ = ["LANGS", "explain", "render_text"]
