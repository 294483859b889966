"""Normalisers per value type: the base every linkage model compares records with.

Names, organizations, serial numbers, phones, plates and VINs, Mexican and US identifiers and
addresses, each folded into one comparable form here rather than in each importer or model.
What each does, with examples, is in docs/reference/normalisers.md.
"""

from cruce.resolve.normalise._addresses import normalise_address
from cruce.resolve.normalise._identifiers import CurpInfo, curp_info, rfc_valid, ssn_valid
from cruce.resolve.normalise._lexicon import GIVEN as GIVEN_NAMES
from cruce.resolve.normalise._lexicon import NICKNAMES
from cruce.resolve.normalise._lexicon import SURNAME as SURNAMES
from cruce.resolve.normalise._names import PersonName, name_similarity, parse_person_name
from cruce.resolve.normalise._orgs import normalise_org_name, org_aliases
from cruce.resolve.normalise._phones import normalise_phone
from cruce.resolve.normalise._serials import SerialNumber, normalise_serial, serials_match
from cruce.resolve.normalise._text import fold
from cruce.resolve.normalise._vehicles import normalise_plate, vin_valid

# The lexicon the name normaliser knows (given names, surnames, nicknames), for search's name rules.
__all__ = [
    "GIVEN_NAMES",
    "NICKNAMES",
    "SURNAMES",
    "CurpInfo",
    "PersonName",
    "SerialNumber",
    "curp_info",
    "fold",
    "name_similarity",
    "normalise_address",
    "normalise_org_name",
    "normalise_phone",
    "normalise_plate",
    "normalise_serial",
    "org_aliases",
    "parse_person_name",
    "rfc_valid",
    "serials_match",
    "ssn_valid",
    "vin_valid",
]
