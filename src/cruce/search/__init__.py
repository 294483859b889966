"""Search: the term index (``terms``), how a query word reaches terms (``text``, ``expand``) and
the query over the postings (``query``); ``index`` keeps the value and reference tables that
imports write.

Access is not decided here: ``cruce.security.guard.Guard`` works out what a principal may see
and passes it to ``query.find``; surfaces search only through the guard.
"""

from cruce.search.expand import Expanded, Match, Vocabulary, held_vocabulary, vocabulary
from cruce.search.index import SEARCHABLE_TYPES, IndexSpec, backfill, fold, fold_sql, index_sql, index_step
from cruce.search.query import FACETS, Explained, Filters, Found, Hit, find
from cruce.search.terms import (
    IndexState,
    Progress,
    Props,
    catch_up,
    catching_up,
    pending_imports,
    props_of,
    reindex,
    state,
)
from cruce.search.text import Word, query_words, value_terms

__all__ = [
    "FACETS",
    "SEARCHABLE_TYPES",
    "Expanded",
    "Explained",
    "Filters",
    "Found",
    "Hit",
    "IndexSpec",
    "IndexState",
    "Match",
    "Progress",
    "Props",
    "Vocabulary",
    "Word",
    "backfill",
    "catch_up",
    "catching_up",
    "find",
    "fold",
    "fold_sql",
    "held_vocabulary",
    "index_sql",
    "index_step",
    "pending_imports",
    "props_of",
    "query_words",
    "reindex",
    "state",
    "value_terms",
    "vocabulary",
]
