"""Vehicle plates and VINs."""

from __future__ import annotations

import re

from cruce.resolve.normalise._text import fold

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise_plate(text: str) -> str:
    """``"abc-12-34"`` and ``"ABC 1234"`` -> ``"ABC1234"``: upper case, accents, spaces and separators gone."""
    return fold(text).replace(" ", "").upper()


def _vin(text: str) -> str:
    return re.sub(r"[\s\-.]", "", text).upper()


def vin_valid(text: str) -> bool:
    """True for a 17-character VIN whose 9th character is its check digit (ISO 3779, North America).

    Letters I, O and Q never appear in a VIN. Each character gets a value (A=1 … H=8, J=1 … R=9,
    S=2 … Z=9, digits as themselves), each position a weight; the weighted sum modulo 11 is the
    check digit, 10 written X. Vehicles made for markets outside North America may carry a VIN
    without a check digit; this says False for those.
    """
    vin = _vin(text)
    if len(vin) != 17 or any(ch not in _VIN_VALUES for ch in vin):
        return False
    remainder = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return vin[8] == ("X" if remainder == 10 else str(remainder))
