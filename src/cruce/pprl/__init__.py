"""Privacy-preserving record linkage (PPRL) between agencies: who they share, without sending names.

Two agencies (a shelter and a police unit) agree on a secret. Each encodes its people with
``cruce pprl encode`` into Bloom filters (clkhash, with the linkage schema ``schema.json``) after
cruce's own normalisers have read the names; each sends only that file. ``cruce pprl match``
compares two files (anonlink, Dice similarity) and reveals only the matched pairs of random
pseudonyms; each agency turns its pseudonyms back into records with the map it kept.
clkhash and anonlink run in an environment of their own (``worker``, docs/adr/0006).
How-to: docs/guide/pprl.md.
"""

from cruce.pprl.encode import EncodeResult, encode_file, encode_store
from cruce.pprl.files import read_encoded, read_map, read_secret, write_secret
from cruce.pprl.match import DEFAULT_THRESHOLD, MatchResult, match_encoded, match_files, write_pairs
from cruce.pprl.worker import PprlError

__all__ = [
    "DEFAULT_THRESHOLD",
    "EncodeResult",
    "MatchResult",
    "PprlError",
    "encode_file",
    "encode_store",
    "match_encoded",
    "match_files",
    "read_encoded",
    "read_map",
    "read_secret",
    "write_pairs",
    "write_secret",
]
