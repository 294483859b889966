"""Phone numbers of Mexico and the United States in E.164 ("+526561234567", "+19155550134")."""

from __future__ import annotations

import re

import phonenumbers

_EXTENSION = re.compile(r"(?:ext\.?|extension|x|#)\s*\d+\s*$", re.IGNORECASE)
_OTHER = {"MX": "US", "US": "MX"}


def _digits(text: str) -> str:
    """Digits with a leading '+', international and old Mexican prefixes rewritten."""
    text = _EXTENSION.sub("", text.strip())
    plus = text.lstrip().startswith("+")
    digits = re.sub(r"\D", "", text)
    if not plus and digits.startswith(("00", "011")):  # dialled from Mexico (00) or the US (011)
        digits, plus = digits[3:] if digits.startswith("011") else digits[2:], True
    if plus and digits.startswith("521") and len(digits) == 13:  # old mobile form "+52 1 656 ..."
        digits = "52" + digits[3:]
    elif plus and digits.startswith("52") and digits[2:5] in ("044", "045") and len(digits) == 15:
        digits = "52" + digits[5:]
    elif not plus and digits[:3] in ("044", "045") and len(digits) == 13:  # old mobile prefixes
        digits = digits[3:]
    elif not plus and digits.startswith("01") and len(digits) == 12:  # old long-distance prefix
        digits = digits[2:]
    elif not plus and digits.startswith("521") and len(digits) == 13:
        digits, plus = "52" + digits[3:], True
    return ("+" if plus else "") + digits


def normalise_phone(text: str, default_region: str = "MX") -> str | None:
    """The number in E.164, or None when ``text`` is not a valid Mexican, US or other number.

    A number without a country code is read in ``default_region`` first and, when it is not a
    valid number there, in the other of Mexico and the US: "(915) 555-0134" is a US number even
    in a Mexican record. "044"/"045" (old Mexican mobile prefixes), "01" (old long distance),
    "+52 1" (old mobile form) and "00"/"011" (international prefixes) are understood.
    """
    candidate = _digits(text)
    if len(candidate.lstrip("+")) < 7:
        return None
    regions = [default_region] if candidate.startswith("+") else [default_region, _OTHER.get(default_region, "US")]
    for region in regions:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return None
