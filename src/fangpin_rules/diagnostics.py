"""Positions, messages and suggestions shared by every stage of the pipeline.

Every problem found in a policy file becomes a `Diagnostic` that points at a file, line and
column inside the YAML, quotes the offending text and says what to do.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from fangpin_rules.text import safe_text


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based line and column in a file."""

    file: str
    line: int
    column: int

    def shifted(self, line_offset: int, column: int) -> Location:
        return Location(self.file, self.line + line_offset, column)

    def __str__(self) -> str:
        if self.line <= 0:  # the file as a whole (missing, unreadable)
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


UNKNOWN_LOCATION = Location("<unknown>", 0, 0)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a policy file."""

    severity: Severity
    code: str
    message: str
    location: Location
    excerpt: str = ""
    length: int = 1
    hint: str = ""
    related: tuple[tuple[str, Location], ...] = field(default_factory=tuple)

    def render(self, *, source_lines: dict[str, list[str]] | None = None) -> str:
        """`file:line:col: error[code]: message`, the source line, a caret and the hint."""
        # Every piece may hold text from the file: shown with its control characters escaped.
        head = f"{self.location}: {self.severity.value}[{self.code}]: {self.message}"
        parts = [safe_text(head)]
        line_text = _source_line(self.location, source_lines)
        if line_text is not None:
            gutter = f"{self.location.line:>5} | "
            start = max(self.location.column - 1, 0)
            parts.append(gutter + safe_text(line_text))
            marked = line_text[start:start + max(1, self.length)]
            caret_pad = " " * (len(gutter) - 2) + "| " + _blank(safe_text(line_text[:start]))
            parts.append(caret_pad + "^" * max(1, _width(safe_text(marked))))
        elif self.excerpt:
            parts.append(f"      | {safe_text(self.excerpt)}")
        for label, where in self.related:
            parts.append(safe_text(f"  note: {label} at {where}"))
        if self.hint:
            parts.append(safe_text(f"  hint: {self.hint}"))
        return "\n".join(parts)

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "excerpt": self.excerpt,
            "hint": self.hint,
            "related": [
                {"label": label, "file": w.file, "line": w.line, "column": w.column}
                for label, w in self.related
            ],
        }


# The text of every file the engine read (through source.files), by name. An excerpt is
# shown only from here, never read anew from disk: a message can then quote only a file the
# run was asked to read, and a policy piped in is still quoted after its one read.
_source_texts: dict[str, str] = {}


def _width(text: str) -> int:
    """Columns a terminal gives the text: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _blank(text: str) -> str:
    """Blanks as wide as the text, so that a caret lands under the character after it (a tab
    stays a tab: the terminal expands it the same way on both lines)."""
    return "".join("\t" if char == "\t" else " " * _width(char) for char in text)


_line_cache: dict[str, list[str]] = {}


def remember_source(file: str, text: str) -> None:
    """Record the text read from `file`, for the excerpts of messages about it."""
    _source_texts[file] = text
    _line_cache.pop(file, None)


def source_lines(file: str) -> list[str] | None:
    """The lines of a file the run read, or None if it did not read it."""
    lines = _line_cache.get(file)
    if lines is None:
        text = _source_texts.get(file)
        if text is None:
            return None
        lines = _line_cache[file] = text.splitlines()
    return lines


def _source_line(loc: Location, source_lines_by_file: dict[str, list[str]] | None
                 ) -> str | None:
    if loc.line <= 0:
        return None
    lines = (source_lines_by_file or {}).get(loc.file)
    if lines is None:
        lines = source_lines(loc.file)
    if lines is None or loc.line > len(lines):
        return None
    return lines[loc.line - 1]


class PolicyError(Exception):
    """A policy that cannot be used: carries every error found (and the warnings)."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = f"{len(errors)} error(s) in policy" + (f"; first: {first.location}: "
                                                          f"{first.message}" if first else "")
        super().__init__(summary)

    def render(self) -> str:
        return "\n\n".join(d.render() for d in self.diagnostics)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt name, if one is close enough."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    best = suggest(name, candidates)
    return f"did you mean '{best}'?" if best else ""


def error(code: str, message: str, location: Location, *, excerpt: str = "", length: int = 1,
          hint: str = "", related: tuple[tuple[str, Location], ...] = ()) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, location, excerpt, length, hint, related)


def warning(code: str, message: str, location: Location, *, excerpt: str = "", length: int = 1,
            hint: str = "") -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, location, excerpt, length, hint)
