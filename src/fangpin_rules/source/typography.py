"""Characters typed with a Chinese input method where YAML or the policy language needs ASCII,
and dates not written YYYY-MM-DD: each named by its character and code point, with the fix,
at its line and column, before the YAML is parsed.

A county officer who types `monitoring_line：` (a full-width colon) would otherwise get a YAML
error about "mapping values" on another line. The messages are in Chinese and English, one
after the other, since the person who reads them may read either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from fangpin_rules.diagnostics import Diagnostic, Location, error

_MAX_PROBLEMS = 50  # a file typed wholly in full-width gets the first ones, not thousands

# A key (ASCII, as every key of a policy is) followed by a full-width colon.
_KEY_COLON = re.compile(r"(?:^\s*(?:-\s+)?|[{,]\s*)[A-Za-z0-9_.§-]+\s*(：)")
_WRONG_DATES = (
    re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})"),
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)
# Where a scalar value starts: after `key: `, `- `, or in a flow collection.
_VALUE_START = re.compile(r"(?:^\s*(?:-\s+)?[A-Za-z0-9_.§-]+:\s+|^\s*-\s+|[{\[,]\s*"
                          r"(?:[A-Za-z0-9_]+:\s*)?)")
_VALUE_END = re.compile(r"\s*(?:$|[,}\]])")


def lookalike_problems(text: str, file: str) -> list[Diagnostic]:
    """Every such problem of a YAML text (up to a limit), in file order."""
    problems: list[Diagnostic] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for problem in _line_problems(line, Location(file, number, 1)):
            problems.append(problem)
            if len(problems) >= _MAX_PROBLEMS:
                return problems
    return problems


def _line_problems(line: str, at: Location) -> Iterator[Diagnostic]:
    code = _without_comment(line)
    yield from _indentation(code, at)
    for match in _KEY_COLON.finditer(code):
        yield _character(at, match.start(1), "：", "fullwidth-colon", "全角冒号",
                         "a full-width colon", ":", "键后须用半角冒号",
                         "a key needs the ASCII colon")
    for index, char in enumerate(code):
        if char == "，" and _in_flow_before_a_key(code, index):
            yield _character(at, index, char, "fullwidth-comma", "全角逗号", "a full-width comma",
                             ",", "花括号或方括号里的各项须用半角逗号分隔",
                             "the items of `{...}` or `[...]` are separated by the ASCII comma")
        elif char in _OPERATORS and not _in_prose(code, index):
            ascii_op, zh_name, en_name = _OPERATORS[char]
            yield _character(at, index, char, "operator-sign", zh_name, en_name, ascii_op,
                             "表达式里的运算符须用 ASCII 字符",
                             "an expression's operators are ASCII characters")
    yield from _dates(code, at)


_OPERATORS = {
    "×": ("*", "乘号", "a multiplication sign"),
    "÷": ("/", "除号", "a division sign"),
}


_PROSE_KEYS = {"title", "zh", "en", "text", "text_en", "note", "section", "source", "reason",
               "description", "document", "issuer"}


def _in_prose(code: str, index: int) -> bool:
    """Text for people, where `7152 × 1.1` is right: the value of a title or a note, or a line
    of a block of text (no key on it) with Chinese in it."""
    keys = re.findall(r"([A-Za-z_]+)\s*:", code[:index])
    if keys:
        return keys[-1] in _PROSE_KEYS
    return any(unicodedata.east_asian_width(char) in "WF" for char in code)


def _indentation(code: str, at: Location) -> Iterator[Diagnostic]:
    for index, char in enumerate(code):
        if char == "\t":
            yield _character(at, index, char, "tab-indent", "制表符（Tab）", "a tab", "  ",
                             "YAML 的缩进只能用空格", "YAML indents with spaces only",
                             fix_zh="用两个空格代替", fix_en="indent with spaces (two per level)")
            return
        if char == "\u3000":
            yield _character(at, index, char, "fullwidth-space", "全角空格",
                             "a full-width space", " ", "YAML 的缩进只能用半角空格",
                             "YAML indents with ASCII spaces only",
                             fix_zh="每个全角空格改为两个半角空格",
                             fix_en="type two ASCII spaces for each full-width one")
            return
        if char != " ":
            return


def _character(at: Location, index: int, char: str, code: str, zh_name: str, en_name: str,
               ascii_char: str, why_zh: str, why_en: str, *, fix_zh: str = "",
               fix_en: str = "") -> Diagnostic:
    point = f"U+{ord(char):04X}"
    fix_zh = fix_zh or f"改为半角字符 '{ascii_char}'（切换到英文输入法）"
    fix_en = fix_en or f"type '{ascii_char}' instead (switch the input method to English)"
    shown = "\\t" if char == "\t" else char
    return error(code, f"{zh_name} '{shown}'（{point}）：{why_zh} / {en_name} '{shown}' "
                 f"({point}): {why_en}", at.shifted(0, index + 1),
                 hint=f"{fix_zh} / {fix_en}")


def _in_flow_before_a_key(code: str, index: int) -> bool:
    """A full-width comma inside `{...}` or `[...]`, followed by the next item (an ASCII key
    in a mapping, an ASCII value in a list), not Chinese text that has commas of its own."""
    depth: list[str] = []
    for char in code[:index]:
        if char in "{[":
            depth.append(char)
        elif char in "}]" and depth:
            depth.pop()
    if not depth:
        return False
    rest = code[index + 1:].lstrip(" ")
    if depth[-1] == "{":
        return re.match(r"[A-Za-z0-9_]+\s*[:：]", rest) is not None
    return re.match(r"[A-Za-z0-9_§\"']", rest) is not None


_EXPRESSION_LINE = re.compile(r"^\s*(?:-\s+)?(?:expr|when|due|done|formula):\s")


def _dates(code: str, at: Location) -> Iterator[Diagnostic]:
    # A value that is a date; in an expression, a date anywhere (it is a literal there).
    starts = [m.end() for m in _VALUE_START.finditer(code)]
    if _EXPRESSION_LINE.match(code):
        starts = [m.start() for m in re.finditer(r"(?<![\w./-])\d{4}[-/.年]", code)]
    for position in starts:
        for pattern in _WRONG_DATES:
            match = pattern.match(code, position)
            if match is None or not (_EXPRESSION_LINE.match(code) or _VALUE_END.match(
                    code, match.end())):
                continue
            year, month, day = (int(part) for part in match.groups())
            written = match.group(0)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", written):
                break  # the right form (a wrong day is the date parser's to report)
            iso = f"{year:04d}-{month:02d}-{day:02d}"
            yield error("date-format", f"日期 '{written}' 须写作 YYYY-MM-DD 格式：{iso} / the date "
                        f"'{written}' must be written YYYY-MM-DD: {iso}",
                        at.shifted(0, match.start() + 1), length=len(written),
                        hint=f"改为 {iso}（年-月-日，月和日各两位）/ write {iso} (year-month-day, "
                        "two digits for the month and the day)")
            break


def _without_comment(line: str) -> str:
    """The line up to a `#` comment (one at the start or after a space, outside quotes)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and (index == 0 or line[index - 1] in " {[,:"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line
