"""cruce's PPRL worker: Bloom-filter encoding (clkhash) and matching (anonlink) in their own environment.

Run by ``tools/pprl/.venv/bin/python`` and never by cruce's own Python: clkhash pins an old
``cryptography`` that cruce's environment cannot hold (docs/adr/0006-pprl-in-its-own-environment.md).
It opens no file and no socket. cruce hands it one JSON request on standard input and reads one
JSON answer on standard output:

- ``{"op": "encode", "schema": {clkhash v3 schema}, "secret": "<base64>", "rows": [[value, ...], ...]}``
  -> ``{"clks": ["<base64 Bloom filter>", ...]}``, one per row, in order;
- ``{"op": "match", "a": [clk, ...], "b": [clk, ...], "threshold": 0.85, "one_to_one": false}``
  -> ``{"pairs": [[index in a, index in b, Dice similarity], ...]}``;
- ``{"op": "versions"}`` -> ``{"clkhash": "...", "anonlink": "..."}``.

A failure is answered ``{"error": "..."}`` with exit status 1; the message never holds a value.
"""

from __future__ import annotations

import base64
import json
import sys
import warnings
from importlib.metadata import version
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # anonlink 0.15 imports the deprecated pkg_resources
    import anonlink
    from clkhash import clk
    from clkhash.schema import from_json_dict
    from clkhash.serialization import deserialize_bitarray, serialize_bitarray


def encode(request: dict[str, Any]) -> dict[str, Any]:
    """Each row's cryptographic long-term key (CLK), base64."""
    schema = from_json_dict(request["schema"])
    secret = base64.b64decode(request["secret"])
    rows = [[str(v) for v in row] for row in request["rows"]]
    if not rows:
        return {"clks": []}
    workers = request.get("workers")
    clks = clk.generate_clks(rows, schema, secret, validate=True, max_workers=workers)
    return {"clks": [serialize_bitarray(c) for c in clks]}


def match(request: dict[str, Any]) -> dict[str, Any]:
    """Pairs of records of ``a`` and ``b`` whose Dice similarity reaches the threshold.

    ``one_to_one`` keeps, greedily from the most similar, at most one partner per record (anonlink's
    ``greedy_solve``); otherwise every pair at or above the threshold is returned.
    """
    a = [deserialize_bitarray(c) for c in request["a"]]
    b = [deserialize_bitarray(c) for c in request["b"]]
    if not a or not b:
        return {"pairs": []}
    threshold = float(request["threshold"])
    candidates = anonlink.candidate_generation.find_candidate_pairs(
        [a, b], anonlink.similarities.dice_coefficient, threshold
    )
    sims, (dsets0, _dsets1), (recs0, recs1) = candidates
    scores: dict[tuple[int, int], float] = {}
    for sim, d0, r0, r1 in zip(sims, dsets0, recs0, recs1, strict=True):
        key = (int(r0), int(r1)) if d0 == 0 else (int(r1), int(r0))
        scores[key] = float(sim)
    if request.get("one_to_one", False):
        chosen = []
        for group in anonlink.solving.greedy_solve(candidates):
            members = dict(group)  # dataset index -> record index
            if 0 in members and 1 in members:
                chosen.append((int(members[0]), int(members[1])))
    else:
        chosen = list(scores)
    return {"pairs": sorted([i, j, round(scores[(i, j)], 6)] for i, j in chosen)}


def versions(_request: dict[str, Any]) -> dict[str, Any]:
    return {"clkhash": version("clkhash"), "anonlink": version("anonlink")}


OPERATIONS = {"encode": encode, "match": match, "versions": versions}


def describe(exc: Exception) -> str:
    """The failure without the value: clkhash's validation messages quote the value they reject."""
    field = getattr(getattr(exc, "field_spec", None), "identifier", None)
    if field is not None:
        return f"{type(exc).__name__}: field {field}, row {getattr(exc, 'row_index', '?')}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


def main() -> int:
    try:
        request = json.load(sys.stdin)
        answer = OPERATIONS[request["op"]](request)
    except Exception as exc:  # every failure goes back to cruce as one JSON answer
        json.dump({"error": describe(exc)}, sys.stdout)
        return 1
    json.dump(answer, sys.stdout, separators=(",", ":"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
