"""Personal identifiers in Mexican and US records: CURP, RFC, SSN (through python-stdnum)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum import exceptions
from stdnum.mx import curp, rfc
from stdnum.us import ssn


@dataclass(frozen=True, slots=True)
class CurpInfo:
    curp: str  # 18 characters, upper case, no spaces
    birth_date: date
    sex: str  # "M" or "F" ("H"ombre and "M"ujer in the CURP itself)
    state: str  # two-letter state of birth as the CURP writes it ("CH" Chihuahua, "DF", "NE" born abroad)


def curp_info(text: str) -> CurpInfo | None:
    """What a valid CURP says about its holder; None when it is not a valid CURP (check digit included)."""
    try:
        number = curp.validate(text, validate_check_digits=True)
        return CurpInfo(number, curp.get_birth_date(number), curp.get_gender(number), number[11:13])
    except exceptions.ValidationError:
        return None


def rfc_valid(text: str) -> bool:
    """A complete RFC (12 characters for a company, 13 for a person) whose check digit is right."""
    try:
        number = rfc.validate(text, validate_check_digits=True)
    except exceptions.ValidationError:
        return False
    return len(number) in (12, 13)


def ssn_valid(text: str) -> bool:
    """A US Social Security number of a valid form (area, group and serial, not a known dummy)."""
    return bool(ssn.is_valid(text))
