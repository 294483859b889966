"""Search: the index the imports maintain (``index``) and the queries over it (``query``).

Access is not decided here: ``cruce.security.guard.Guard`` works out what a principal may see
and passes it to ``query.find``; surfaces search only through the guard.
"""

from cruce.search.index import SEARCHABLE_TYPES, IndexSpec, backfill, fold, fold_sql, index_sql, index_step
from cruce.search.query import Found, find, words_of

__all__ = [
    "SEARCHABLE_TYPES",
    "Found",
    "IndexSpec",
    "backfill",
    "find",
    "fold",
    "fold_sql",
    "index_sql",
    "index_step",
    "words_of",
]
