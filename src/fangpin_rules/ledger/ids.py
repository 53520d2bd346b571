"""Citizen ID numbers (公民身份号码, GB 11643-1999) as a ledger's 证件号码 column holds them:
checked, keyed for finding the same person twice, and masked wherever they are shown.

An 18-character number is 6 digits of the issuing division, 8 of the birth date, 3 of an order
code and a check character (ISO 7064 MOD 11-2: 0-9 or X); it is checked whole. A 15-digit
number is a first-generation card (issued before 1999, no check character, the birth year in
2 digits): it is still a valid number (such cards were never all replaced), checked for its
digits and its birth date, and keyed as the 18-character number it was upgraded to (`19`
put before the year and its check character added), so that the same person given once by an
old and once by a new number is found twice.
"""

from __future__ import annotations

from datetime import date
from operator import mul

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECKS = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character of an ID number's first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17:
        raise ValueError("an ID number's check character is of its first 17 digits")
    return _CHECKS[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def mask_id(text: str) -> str:
    """An ID number with all but its first 6 and last 4 characters hidden."""
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def _is_date(digits: str) -> bool:
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def id_key(text: str) -> tuple[str | None, str | None]:
    """(the number's 18-character key, None) for a valid ID number, else (None, what is
    wrong). The text is never part of the reason."""
    if len(text) == 18:
        body, check = text[:17], text[17].upper()
        if not body.isascii() or not body.isdigit() or check not in "0123456789X":
            return None, ("not an ID number: 17 digits and a check character (0-9 or X) "
                          "(GB 11643-1999)")
        if not _is_date(body[6:14]):
            return None, "not an ID number: its birth date (characters 7-14) is not a date"
        if id_check_digit(body) != check:
            return None, ("the ID number's check character is wrong (GB 11643-1999 MOD 11-2): "
                          "a digit was mistyped")
        return body + check, None
    if len(text) == 15:
        if not text.isascii() or not text.isdigit():
            return None, "not an ID number: an old 15-character number is 15 digits"
        if not _is_date("19" + text[6:12]):
            return None, "not an ID number: its birth date (characters 7-12) is not a date"
        body = text[:6] + "19" + text[6:]
        return body + id_check_digit(body), None
    return None, (f"not an ID number: {len(text)} characters (an ID number has 18, an old one "
                  "15)")
