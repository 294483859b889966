"""Street addresses in Mexico and the United States, folded with their abbreviations written out."""

from __future__ import annotations

import re

from cruce.resolve.normalise._text import fold

_BOTH = {
    "blvd": "boulevard", "bulevar": "boulevard", "boul": "boulevard", "carr": "carretera", "hwy": "highway",
    "km": "kilometro", "edif": "edificio", "bldg": "building", "depto": "departamento", "dpto": "departamento",
    "int": "interior", "ext": "exterior", "mz": "manzana", "mza": "manzana", "lt": "lote", "esq": "esquina",
    "fracc": "fraccionamiento", "fraccto": "fraccionamiento", "priv": "privada", "prol": "prolongacion",
    "cd": "ciudad", "cda": "cerrada", "clle": "calle", "cll": "calle", "col": "colonia", "av": "avenida",
    "avda": "avenida", "nte": "norte", "ote": "oriente", "pte": "poniente", "gral": "general",
    "calz": "calzada", "num": "numero", "nro": "numero", "ejido": "ejido", "infonavit": "infonavit",
    "st": "street", "str": "street", "ave": "avenue", "rd": "road", "dr": "drive", "ln": "lane",
    "ct": "court", "pl": "place", "sq": "square", "pkwy": "parkway", "cir": "circle", "ter": "terrace",
    "trl": "trail", "apt": "apartment", "apto": "apartment", "ste": "suite", "fl": "floor", "rm": "room",
    "po": "po", "n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast", "nw": "northwest",
    "se": "southeast", "sw": "southwest", "mt": "mount", "ft": "fort",
}  # fmt: skip
# Abbreviations that mean something else in a Mexican address.
_MX = {"ave": "avenida", "s": "sur", "n": "norte", "e": "este", "dr": "doctor", "c": "calle", "no": "numero",
       "ote": "oriente", "int": "interior", "pl": "plaza", "ct": "centro"}  # fmt: skip
_SPANISH_HINTS = frozenset(
    str.split(
        "calle avenida av col colonia cp fracc fraccionamiento no num numero esq sn privada carretera carr "
        "ciudad cd mexico mx municipio mpio delegacion alcaldia manzana mz lote lt ejido poniente oriente "
        "norte sur pte ote nte sin int interior depto departamento edificio esquina"
    )
)
_POSTAL = re.compile(r"\bc\.?\s*p\.?\s*:?\s*(?=\d{5}\b)", re.IGNORECASE)


def normalise_address(text: str, country: str | None = None) -> str:
    """``"Av. Juárez No. 123, Col. Centro, C.P. 32000"`` -> ``"avenida juarez numero 123 colonia centro cp 32000"``.

    Folded; the usual abbreviations written out the same way whichever way the record wrote them
    (Av./Avenida, Col./Colonia, C./Calle, No./Núm./#, S/N; St/Street, Ave/Avenue, Rd/Road,
    Apt/#/Apartment, N/North …); "C.P." before a postal code written "cp"; the postal code kept.
    ``country`` ("MX" or "US") picks the reading of the abbreviations that differ (Mexican "Dr." is
    Doctor, "S" Sur; American "Dr" is Drive); when None, Spanish words in the address decide.
    """
    raw = _POSTAL.sub(" cp ", text)
    raw = re.sub(r"\bs\s*/\s*n\b", " sin numero ", raw, flags=re.IGNORECASE)
    words = fold(raw).split()
    mexican = country == "MX" if country else bool(_SPANISH_HINTS.intersection(words))
    if "#" in raw:
        words = fold(raw.replace("#", " numero " if mexican else " apartment ")).split()
    out: list[str] = []
    for i, word in enumerate(words):
        if mexican and word in _MX and not (word == "c" and i + 1 < len(words) and words[i + 1] == "p"):
            out.append(_MX[word])
        elif word in _BOTH:
            out.append(_BOTH[word])
        else:
            out.append(word)
    return " ".join(out)
