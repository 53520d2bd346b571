"""Policy and record text made safe to print on a terminal.

A title, label, name or record value is data written by someone else. Printed as it is, an
ESC sequence in it could clear the screen, move the cursor or rewrite what was printed before;
a lone CR or a newline could fake a line of the report; a bidi override could show text in
another order than it is. Every human-readable output passes such text through `safe_text`,
which shows each of these characters as a visible escape (`\\x1b`, `\\r`, `\\u202e`). Chinese
and other printable text is unchanged. JSON outputs need none of this: JSON escapes controls.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL; line and paragraph separators; and the format characters that
# reorder or hide text (bidi embeddings, overrides and isolates, marks, zero-width ones).
_OTHERS = ("\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
           "\ufff9-\ufffb\ud800-\udfff")
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_UNSAFE_IN_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # keeps a block's \t and \n


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named is not None:
        return named
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """`text` with every control, separator and reordering character shown as an escape."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def safe_block(text: str) -> str:
    """A rendered multi-line report made safe: its own line breaks and tabs stay, every other
    unsafe character (a CR too) is shown as an escape."""
    if _UNSAFE_IN_BLOCK.search(text) is None:
        return text
    return _UNSAFE_IN_BLOCK.sub(_escape, text)
