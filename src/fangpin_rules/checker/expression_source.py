"""Where an expression stands in its YAML file, so that an offset inside the expression's text
becomes a file:line:column, also inside multi-line (folded or literal) scalars."""

from __future__ import annotations

from dataclasses import dataclass, field

from fangpin_rules.diagnostics import Location, source_lines
from fangpin_rules.source import LScalar


@dataclass(frozen=True)
class ExprSource:
    text: str
    scalar: LScalar | None
    fallback: Location
    path: tuple[str | int, ...]
    _segments: list[tuple[int, int, int]] = field(default_factory=list, compare=False)

    def location(self, offset: int) -> Location:
        scalar = self.scalar
        if scalar is None:
            return self.fallback
        start = scalar.loc
        quote = 1 if scalar.style in ('"', "'") else 0
        single_line = "\n" not in scalar.raw and scalar.style not in ("|", ">")
        if single_line and self._fits_one_line(start, quote):
            return Location(start.file, start.line, start.column + quote + offset)
        return self._multi_line(start, offset, quote)

    def _fits_one_line(self, start: Location, quote: int) -> bool:
        line = _line(start.file, start.line)
        return line is None or len(line) >= start.column - 1 + quote + len(self.text)

    def _multi_line(self, start: Location, offset: int, quote: int) -> Location:
        """Walk the file's lines: each content line (indentation stripped) stands for its
        length plus one character (the newline or the space folding put in its place)."""
        segments = self._segments
        if not segments:
            block = self.scalar is not None and self.scalar.style in ("|", ">")
            line_no = start.line + 1 if block else start.line
            column = 1 if block else start.column + quote
            remaining = len(self.text)
            while remaining > 0:
                text = _line(start.file, line_no)
                if text is None:
                    break
                if column == 1:
                    stripped = text.lstrip(" ")
                    col = len(text) - len(stripped) + 1
                else:
                    stripped = text[column - 1:]
                    col = column
                if stripped.strip():
                    segments.append((line_no, col, len(stripped)))
                    remaining -= len(stripped) + 1
                line_no += 1
                column = 1
        consumed = 0
        for line_no, col, length in segments:
            if offset <= consumed + length:
                return Location(start.file, line_no, col + offset - consumed)
            consumed += length + 1
        return start


def _line(file: str, number: int) -> str | None:
    lines = source_lines(file)  # only a file the run read, never re-read from disk
    if lines is None or not 1 <= number <= len(lines):
        return None
    return lines[number - 1]
