"""DuckDB's SQL in Spark's: cruce writes its SQL once, in DuckDB's dialect, and SQLGlot translates
it; the few places where the two engines' functions differ are rewritten here, node by node.

What SQLGlot does not carry over by itself:

- Splink's ``jaro_winkler_similarity`` (the Splink jar registers ``jaro_winkler``) and DuckDB's
  ``list_has_any`` (``&&``), which Spark spells ``arrays_overlap``;
- a list's element (``l[1]``: DuckDB counts from 1 and gives NULL past the end, as Spark's
  ``try_element_at`` does) and a list's slice (``l[1:20]``, both ends included: Spark's
  ``slice(l, start, length)``);
- ``UBIGINT``, which Spark lacks: a ``BIGINT`` holds the same 64 bits (cast back when read);
- ``TRY_CAST(text AS DATE)``, which in Spark also reads ``2021`` and ``2021-02`` as dates where
  DuckDB gives NULL: the text must look like a whole date first.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

WHOLE_DATE = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"


def _slice(node: exp.Bracket, bounds: exp.Slice) -> exp.Expr:
    start, end = bounds.this, bounds.expression
    if start is None:
        start = exp.Literal.number(1)
    if end is None:  # to the end: as many as the list has
        length: exp.Expr = exp.Anonymous(this="size", expressions=[node.this.copy()])
    elif isinstance(start, exp.Literal) and isinstance(end, exp.Literal):
        length = exp.Literal.number(int(end.this) - int(start.this) + 1)
    else:
        length = exp.Add(this=exp.Sub(this=end.copy(), expression=start.copy()), expression=exp.Literal.number(1))
    return exp.Anonymous(this="slice", expressions=[node.this, start, length])


def _element(node: exp.Bracket, index: exp.Expr) -> exp.Expr:
    one_based = (
        exp.Literal.number(int(index.this) + 1)
        if isinstance(index, exp.Literal) and not index.is_string
        else exp.Add(this=index.copy(), expression=exp.Literal.number(1))
    )
    return exp.Anonymous(this="try_element_at", expressions=[node.this, one_based])


def to_spark_node(node: exp.Expr) -> exp.Expr:
    """One node of a DuckDB tree, in the form Spark needs (see the module's docstring)."""
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        inner = node.expressions[0]
        # sqlglot reads DuckDB's 1-based index as a 0-based one, and a slice's bounds as written
        return _slice(node, inner) if isinstance(inner, exp.Slice) else _element(node, inner)
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.UBIGINT:
        return exp.DataType.build("BIGINT")
    if isinstance(node, exp.TryCast) and node.to.this == exp.DataType.Type.DATE:
        text = node.this
        looks_like_date = exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(WHOLE_DATE))
        return exp.If(this=looks_like_date, true=node.copy(), false=exp.Null())
    return node


def to_spark_tree(sql: str | exp.Expr) -> exp.Expr:
    tree = sqlglot.parse_one(sql, read="duckdb") if isinstance(sql, str) else sql.copy()
    return tree.transform(to_spark_node)


def to_spark_sql(sql: str | exp.Expr) -> str:
    """A DuckDB statement, query or condition in Spark SQL (``ELSE``, Splink's last level, as is)."""
    if isinstance(sql, str) and sql.strip().upper() == "ELSE":
        return sql
    return to_spark_tree(sql).sql(dialect="spark", normalize_functions="lower")
