"""The term index held in memory, evaluated with numpy: the same hits as ``query.find``, without SQL.

``query.find`` asks the store to join the postings with the expanded terms, group them by entity
and word, and count the facets of all hits: one statement, but DuckDB spends some 30 ms planning
and running it even on a small store, and about 60 ms at a million entities (ADR 0009). Here the
postings (term, entity, import, property, protected) are numpy arrays grouped by term, so a
query reads only the rows of its own terms, keeps each entity's best match per word with
``np.maximum.at``, and counts facets over the hits alone.

The arrays are loaded whole, in one read transaction, and stand for one generation of the index
(``cruce.search.terms.IndexState.generation``); when the index moves on, the store's SQL path
answers until a new load is in place (``held``), so a stale copy costs speed, never a wrong
answer. Entities are numbered in the order of their id as text, so ties on score fall to the
smaller id exactly as in SQL. Hits, scores, explanations and facets are the same as
``query.find``'s on the same index: a test runs both.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cruce.search.query import IN_ORDER_SHARE, Filters, Found, _found, needed, nothing_to_find, word_places
from cruce.security.db import AppDB
from cruce.store.cache import derived_dir

if TYPE_CHECKING:
    from cruce.search.expand import Expanded

log = logging.getLogger(__name__)

# measured: 141 MB for a million entities (4.6M postings, 2.9M facet rows), plus 16 MB of scratch arrays;
# a larger index stays in the store
MAX_ENTITIES = int(os.environ.get("CRUCE_SEARCH_MEMORY_ENTITIES", "4000000"))
NO_FILTERS = Filters()
_PACK_WEIGHT, _PACK_TERM = 10**12, 10**4  # as query.find packs a word's best match
_EMPTY = (0, np.iinfo(np.int32).max, np.iinfo(np.int16).max, 0, 0, 0, 0)  # the scratch arrays at rest

Columns = Callable[[str], dict[str, np.ndarray]]  # runs a query, returns its columns by name


@dataclass(frozen=True)
class _WordHits:
    """The entities one query word matched (sorted), with what each kept of its matches."""

    ents: np.ndarray
    best: np.ndarray  # the best match packed as in SQL: weight, term, property
    low_import: np.ndarray
    low_schema: np.ndarray
    touched: np.ndarray
    person: np.ndarray
    terms: np.ndarray  # the longest value holding a match of the word
    in_place: np.ndarray  # a match of the word stands where the word stands in the query
    required: int


def _why(per_word: list[_WordHits], eid: int) -> str:
    """``word:best`` for each word the entity matched, as ``query.find`` packs them."""
    parts = []
    for i, w in enumerate(per_word):
        at = int(np.searchsorted(w.ents, eid))
        if at < w.ents.size and int(w.ents[at]) == eid:
            parts.append(f"{i}:{int(w.best[at])}")
    return " ".join(parts)


@dataclass(frozen=True)
class Postings:
    """One generation of the term index, as arrays."""

    generation: tuple[int, ...]
    entity_ids: np.ndarray  # entity number -> id as text (object array, in text order)
    term_start: np.ndarray  # term_id -> first row of its postings (CSR over ``p_*``)
    p_entity: np.ndarray
    p_import: np.ndarray
    p_prop: np.ndarray
    p_protected: np.ndarray
    p_terms: np.ndarray  # the length of the value the posting's term came from
    p_position: np.ndarray  # where the term stands among that value's words (-1: a particle)
    person: np.ndarray  # entity number -> a protected property points at it
    f_start: np.ndarray  # entity number -> first row of its facets (CSR over ``f_*``)
    f_import: np.ndarray
    f_code: np.ndarray
    facet_values: tuple[tuple[str, str], ...]  # facet code -> (kind, value)
    dataset_of: dict[int, str]  # import number -> dataset
    schema_code: np.ndarray  # prop_id -> its schema's rank among schemas (-1: none)
    schemas: tuple[str, ...]  # schema rank -> name, sorted (so min rank is min name, as in SQL)
    # arrays as long as the entities, reused by each query (``_word``) under the lock
    _arrays: list[np.ndarray] = field(default_factory=list, compare=False, repr=False)
    _scratch_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def nbytes(self) -> int:
        """The arrays' bytes (the ids as text counted at 60 bytes each)."""
        arrays = (self.term_start, self.p_entity, self.p_import, self.p_prop, self.p_protected, self.p_terms,
                  self.p_position, self.person, self.f_start, self.f_import, self.f_code, self.schema_code)  # fmt: skip
        return sum(int(a.nbytes) for a in arrays) + 60 * int(self.entity_ids.size)

    # -- access as arrays ---------------------------------------------------------------------------
    def _imports(self, datasets: Sequence[str]) -> np.ndarray:
        wanted = set(datasets)
        top = max(self.dataset_of, default=0)
        mask = np.zeros(top + 2, dtype=bool)
        for no, name in self.dataset_of.items():
            mask[no] = name in wanted
        return mask

    def _import_mask(self, mask: np.ndarray, imports: np.ndarray) -> np.ndarray:
        inside = imports < mask.size
        found: np.ndarray = inside & mask[np.where(inside, imports, 0)]
        return found

    def _with_facet(self, kind: str, value: str, visible: np.ndarray) -> np.ndarray:
        """Entity numbers -> has this facet value in a visible import."""
        allowed = np.zeros(self.entity_ids.size, dtype=bool)
        try:
            code = self.facet_values.index((kind, value))
        except ValueError:
            return allowed
        rows = np.flatnonzero((self.f_code == code) & self._import_mask(visible, self.f_import))
        owners = np.searchsorted(self.f_start, rows, side="right") - 1
        allowed[owners] = True
        return allowed

    # -- the query ------------------------------------------------------------------------------------
    def find(
        self,
        words: Sequence[Expanded],
        *,
        visible: Sequence[str],
        caseload: Sequence[str],
        text_props: frozenset[int],
        filters: Filters = NO_FILTERS,
        limit: int = 50,
        offset: int = 0,
    ) -> Found:
        """As ``query.find`` (without the date range, which reads statements: the caller uses SQL)."""
        if nothing_to_find(words, visible):
            return Found(0, (), False)
        required = sum(1 for e in words if e.word.required)
        seen = self._imports(visible)
        inside = self._imports(caseload)
        texts = np.zeros(self.schema_code.size, dtype=bool)
        texts[[p for p in text_props if p < texts.size]] = True
        allowed = self._allowed(filters, seen)
        schema = self.schemas.index(filters.schema) if filters.schema in self.schemas else None
        if filters.schema and schema is None:
            return _found([("total", "", 0, "", 0, 0, "")], words)
        with self._scratch_lock:
            try:
                per_word = [
                    self._word(e, place, seen, inside, texts, schema, allowed)
                    for e, place in zip(words, word_places(words), strict=True)
                ]
            except BaseException:  # the scratch arrays may hold a half-done word: made again next time
                self._arrays.clear()
                raise
        return self._ranked(per_word, words, required, seen, limit, offset)

    def _word(
        self, e: Expanded, place: int, seen: np.ndarray, inside: np.ndarray, texts: np.ndarray,
        schema: int | None, allowed: np.ndarray | None,
    ) -> _WordHits:  # fmt: skip
        """The entities one word matches, each with its best match, lowest import and type, and
        whether it touched protected values: reduced in arrays as long as the store's entities
        (kept between queries, so that only the rows of the word's own terms are visited)."""
        best, low_import, low_schema, touched, person, long_terms, in_place = self._scratch()
        visited = []
        for m in e.matches:
            if m.term_id + 1 >= self.term_start.size:
                continue
            lo, hi = int(self.term_start[m.term_id]), int(self.term_start[m.term_id + 1])
            ent, imp = self.p_entity[lo:hi], self.p_import[lo:hi]
            prop, prot, terms = self.p_prop[lo:hi], self.p_protected[lo:hi], self.p_terms[lo:hi]
            is_person = self.person[ent]
            keep = self._import_mask(seen, imp)
            keep &= self._import_mask(inside, imp) | (~prot & ~is_person)
            if m.text_only:
                keep &= texts[prop]
            if schema is not None:
                keep &= self.schema_code[prop] == schema
            if allowed is not None:
                keep &= allowed[ent]
            if not keep.any():
                continue
            ent, imp, prop = ent[keep], imp[keep], prop[keep]
            np.maximum.at(long_terms, ent, terms[keep])
            np.maximum.at(in_place, ent, (self.p_position[lo:hi][keep] == place).astype(np.int8))
            np.maximum.at(best, ent, m.weight * _PACK_WEIGHT + m.term_id * _PACK_TERM + prop.astype(np.int64))
            np.minimum.at(low_import, ent, imp)
            np.minimum.at(low_schema, ent, self.schema_code[prop])
            np.maximum.at(touched, ent, (prot[keep] | is_person[keep]).astype(np.int8))
            np.maximum.at(person, ent, is_person[keep].astype(np.int8))
            visited.append(ent)
        ents = np.unique(np.concatenate(visited)) if visited else np.zeros(0, dtype=np.int32)
        found = _WordHits(
            ents, best[ents], low_import[ents], low_schema[ents], touched[ents], person[ents], long_terms[ents],
            in_place[ents], 1 if e.word.required else 0,
        )  # fmt: skip
        for array, rest in zip(self._arrays, _EMPTY, strict=True):
            array[ents] = rest
        return found

    def _allowed(self, filters: Filters, seen: np.ndarray) -> np.ndarray | None:
        """Entity numbers -> has every facet value the filters ask for (None: no such filter)."""
        allowed: np.ndarray | None = None
        for kind in ("flow", "place", "year"):
            value = getattr(filters, kind)
            if value:
                mask = self._with_facet(kind, value, seen)
                allowed = mask if allowed is None else allowed & mask
        return allowed

    def _scratch(self) -> tuple[np.ndarray, ...]:
        """Arrays as long as the entities, at rest (``_EMPTY``) between queries (``_word`` resets them)."""
        if not self._arrays:
            n = self.entity_ids.size
            self._arrays.extend((
                np.zeros(n, dtype=np.int64), np.full(n, _EMPTY[1], dtype=np.int32),
                np.full(n, _EMPTY[2], dtype=np.int16), np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8),
                np.zeros(n, dtype=np.int16), np.zeros(n, dtype=np.int8),
            ))  # fmt: skip
        return tuple(self._arrays)

    def _ranked(
        self, per_word: list[_WordHits], words: Sequence[Expanded], required: int, seen: np.ndarray, limit: int,
        offset: int,
    ) -> Found:  # fmt: skip
        every = np.concatenate([w.ents for w in per_word])
        ents, at = np.unique(every, return_inverse=True)
        score = np.zeros(ents.size, dtype=np.int64)
        count = np.zeros(ents.size, dtype=np.int64)
        low_import = np.full(ents.size, _EMPTY[1], dtype=np.int32)
        low_schema = np.full(ents.size, _EMPTY[2], dtype=np.int16)
        touched = np.zeros(ents.size, dtype=np.int8)
        person = np.zeros(ents.size, dtype=np.int8)
        length = np.zeros(ents.size, dtype=np.int64)
        in_order = np.zeros(ents.size, dtype=np.int64)
        start = 0
        for w in per_word:
            where = at[start : start + w.ents.size]
            start += w.ents.size
            score[where] += w.best // _PACK_WEIGHT  # each entity once per word: plain assignment is safe
            count[where] += w.required
            low_import[where] = np.minimum(low_import[where], w.low_import)
            low_schema[where] = np.minimum(low_schema[where], w.low_schema)
            touched[where] |= w.touched
            person[where] |= w.person
            length[where] = np.maximum(length[where], w.terms)
            in_order[where] += w.in_place
        length = np.maximum(np.maximum(length, count), 1)
        conflict = np.minimum(required - count, length - count)
        score = score * (length + count - conflict) // (2 * length)  # as query.find scales it
        score = score * (IN_ORDER_SHARE + in_order) // IN_ORDER_SHARE
        keep = count >= needed(required)
        ents, score = ents[keep], score[keep]
        low_import, low_schema, touched, person = low_import[keep], low_schema[keep], touched[keep], person[keep]
        rows: list[tuple[Any, ...]] = [("total", "", int(ents.size), "", int(touched.max(initial=0)), 0, "")]
        if ents.size:
            order = np.lexsort((ents, -score))[offset : offset + limit]
            for i in order:
                eid = int(ents[i])
                rows.append(("hit", self.entity_ids[eid], int(score[i]), self.schemas[int(low_schema[i])],
                             int(touched[i]), int(person[i]), _why(per_word, eid)))  # fmt: skip
            rows += self._facet_rows(ents, low_import, low_schema, seen)
        return _found(rows, words)

    def _facet_rows(
        self, ents: np.ndarray, low_import: np.ndarray, low_schema: np.ndarray, seen: np.ndarray
    ) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        codes, counts = np.unique(low_schema, return_counts=True)
        rows += [("type", self.schemas[int(c)], int(k), "", 0, 0, "") for c, k in zip(codes, counts, strict=True)]
        by_dataset: dict[str, int] = {}
        numbers, counts = np.unique(low_import, return_counts=True)
        for no, k in zip(numbers, counts, strict=True):
            name = self.dataset_of.get(int(no))
            if name is not None:
                by_dataset[name] = by_dataset.get(name, 0) + int(k)
        rows += [("dataset", name, k, "", 0, 0, "") for name, k in by_dataset.items()]
        starts, ends = self.f_start[ents], self.f_start[ents + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total:
            owner = np.repeat(np.arange(ents.size), lengths)
            at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            visible = self._import_mask(seen, self.f_import[at])
            pairs = np.unique(owner[visible].astype(np.int64) * (len(self.facet_values) + 1) + self.f_code[at][visible])
            codes, counts = np.unique(pairs % (len(self.facet_values) + 1), return_counts=True)
            for code, k in zip(codes, counts, strict=True):
                kind, value = self.facet_values[int(code)]
                rows.append((kind, value, int(k), "", 0, 0, ""))
        return rows


# -- loading -----------------------------------------------------------------------------------------
_ENTITIES = (
    "CREATE TEMP TABLE cruce_search_entity AS SELECT entity_id, "
    "CAST(row_number() OVER (ORDER BY CAST(entity_id AS VARCHAR)) - 1 AS INTEGER) AS n "
    "FROM (SELECT DISTINCT entity_id FROM search_posting) AS d"
)
_FACET_CODES = (
    "CREATE TEMP TABLE cruce_search_facet_code AS SELECT kind, value, "
    "CAST(row_number() OVER (ORDER BY kind, value) - 1 AS INTEGER) AS code "
    "FROM (SELECT DISTINCT kind, value FROM search_facet) AS d"
)
_STATE = (
    "SELECT (SELECT count(*) FROM import_run) AS a, (SELECT COALESCE(max(no), 0) FROM import_run) AS b, "
    "count(*) AS c, COALESCE(max(import_no), 0) AS d, COALESCE(sum(entities), 0) AS e, "
    "(SELECT count(*) FROM search_term) AS f, COALESCE(min(run), 0) AS g, (SELECT count(*) FROM property) AS h "
    "FROM search_indexed"
)


def load(columns: Columns) -> Postings:
    """Every posting and facet of the index, read by ``columns`` inside one read transaction."""
    state = columns(_STATE)
    generation = tuple(int(state[k][0]) for k in "cdefg")
    columns(_ENTITIES)
    columns(_FACET_CODES)
    try:
        ids = columns("SELECT CAST(entity_id AS VARCHAR) AS k FROM cruce_search_entity ORDER BY n")["k"]
        terms = int(columns("SELECT COALESCE(max(term_id), 0) AS t FROM search_term")["t"][0])
        p = columns(
            "SELECT p.term_id AS t, e.n AS n, p.import_no AS i, p.prop_id AS p, p.protected AS x, p.terms AS l, "
            "p.position AS o "
            "FROM search_posting p JOIN cruce_search_entity e ON e.entity_id = p.entity_id ORDER BY p.term_id"
        )
        people = columns(
            "SELECT DISTINCT e.n AS n FROM entity_ref r JOIN cruce_search_entity e ON e.entity_id = r.target "
            "WHERE r.protected"
        )["n"]
        f = columns(
            "SELECT e.n AS n, f.import_no AS i, c.code AS c FROM search_facet f "
            "JOIN cruce_search_entity e ON e.entity_id = f.entity_id "
            "JOIN cruce_search_facet_code c ON c.kind = f.kind AND c.value = f.value ORDER BY e.n"
        )
        codes = columns("SELECT kind AS k, value AS v FROM cruce_search_facet_code ORDER BY code")
        imports = columns("SELECT no AS n, dataset AS d FROM import_run")
        props = columns("SELECT prop_id AS p, schema AS s FROM property")
    finally:
        columns("DROP TABLE IF EXISTS cruce_search_entity")
        columns("DROP TABLE IF EXISTS cruce_search_facet_code")
    n = len(ids)
    person = np.zeros(n, dtype=bool)
    person[np.asarray(people, dtype=np.int64)] = True
    schemas = tuple(sorted({str(s) for s in props["s"]}))
    schema_code = np.full(int(max(props["p"], default=0)) + 1, -1, dtype=np.int16)
    for pid, name in zip(props["p"], props["s"], strict=True):
        schema_code[int(pid)] = schemas.index(str(name))
    return Postings(
        generation=generation,
        entity_ids=np.asarray([str(i) for i in ids], dtype=object),
        term_start=_starts(np.asarray(p["t"], dtype=np.int64), terms + 1),
        p_entity=np.asarray(p["n"], dtype=np.int32),
        p_import=np.asarray(p["i"], dtype=np.int32),
        p_prop=np.asarray(p["p"], dtype=np.int32),
        p_protected=np.asarray(p["x"], dtype=bool),
        p_terms=np.asarray(p["l"], dtype=np.int16),
        p_position=np.asarray(p["o"], dtype=np.int16),
        person=person,
        f_start=_starts(np.asarray(f["n"], dtype=np.int64), n),
        f_import=np.asarray(f["i"], dtype=np.int32),
        f_code=np.asarray(f["c"], dtype=np.int32),
        facet_values=tuple((str(k), str(v)) for k, v in zip(codes["k"], codes["v"], strict=True)),
        dataset_of={int(no): str(name) for no, name in zip(imports["n"], imports["d"], strict=True)},
        schema_code=schema_code,
        schemas=schemas,
    )


def _starts(keys: np.ndarray, size: int) -> np.ndarray:
    """CSR offsets of sorted ``keys`` in 0..size-1: rows of key k are ``[starts[k], starts[k + 1])``."""
    return np.searchsorted(keys, np.arange(size + 1), side="left").astype(np.int64)


# -- a snapshot on disk, for the other processes of a team server ----------------------------------
_ARRAYS = ("term_start", "p_entity", "p_import", "p_prop", "p_protected", "p_terms", "p_position", "person",
           "f_start", "f_import", "f_code", "schema_code")  # fmt: skip


def snapshot_dir(url: str) -> Path:
    """``CRUCE_SEARCH_CACHE``, else a folder per database URL under ``~/.cache/cruce/search``."""
    return derived_dir(url, "search", "CRUCE_SEARCH_CACHE")


def _snapshot_path(url: str, generation: tuple[int, ...]) -> Path:
    return snapshot_dir(url) / f"postings-{'-'.join(str(g) for g in generation)}.npz"


def save_snapshot(url: str, postings: Postings) -> Path:
    """Write the postings where the web workers of a team server find them (``load_snapshot``):
    the job process that imported loads them once from PostgreSQL, and each worker reads the
    arrays from the file instead of asking the store for the whole index again (after an import
    both workers ran the same join of every posting at once, 4 s each on a loaded server: load
    test, issue #10). Written whole, then renamed; the other generations' files are removed."""
    folder = snapshot_dir(url)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _snapshot_path(url, postings.generation)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    arrays = {name: getattr(postings, name) for name in _ARRAYS}
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:  # the service's alone
        np.savez(
            out, **arrays, generation=np.asarray(postings.generation, dtype=np.int64),
            entity_ids=postings.entity_ids.astype(str), schemas=np.asarray(postings.schemas, dtype=str),
            facet_kinds=np.asarray([k for k, _v in postings.facet_values], dtype=str),
            facet_values=np.asarray([v for _k, v in postings.facet_values], dtype=str),
            import_numbers=np.asarray(list(postings.dataset_of), dtype=np.int64),
            import_datasets=np.asarray(list(postings.dataset_of.values()), dtype=str),
        )  # fmt: skip
    os.replace(partial, path)
    for other in folder.glob("postings-*.npz"):
        if other != path:
            other.unlink(missing_ok=True)
    return path


def load_snapshot(url: str, generation: tuple[int, ...]) -> Postings | None:
    """The postings of ``generation`` written by ``save_snapshot``, or None when there is none."""
    try:
        with np.load(_snapshot_path(url, generation), allow_pickle=False) as held:
            if tuple(int(g) for g in held["generation"]) != generation:
                return None
            kinds, values = held["facet_kinds"].tolist(), held["facet_values"].tolist()
            numbers, datasets = held["import_numbers"].tolist(), held["import_datasets"].tolist()
            return Postings(
                generation=generation,
                entity_ids=held["entity_ids"].astype(object),
                facet_values=tuple(zip(kinds, values, strict=True)),
                dataset_of=dict(zip(numbers, datasets, strict=True)),
                schemas=tuple(held["schemas"].tolist()),
                **{name: held[name] for name in _ARRAYS},
            )
    except (OSError, ValueError, KeyError):
        return None


def duckdb_columns(cursor: Any) -> Columns:
    def run(sql: str) -> dict[str, np.ndarray]:
        result = cursor.execute(sql)
        return dict(result.fetchnumpy()) if result.description else {}

    return run


_FETCH_ROWS = 200_000
# PostgreSQL's fixed-width types as they come in COPY's binary format (big-endian), by type OID
_BINARY = {16: np.dtype("?"), 21: np.dtype(">i2"), 23: np.dtype(">i4"), 20: np.dtype(">i8")}
_COPY_HEADER = 19  # signature (11), flags (4), header extension length (4, here 0)


def postgresql_columns(db: AppDB) -> Columns:
    """Columns of a query. A query of integers and booleans only (the postings and facets: millions
    of rows) is read by ``COPY … (FORMAT binary)``, whose rows are then fixed-size records numpy
    reads at once; others a slice of rows at a time, each slice made into arrays at once: millions
    of postings never stand as Python tuples (their load took 3.4 s of a worker's interpreter at
    20,000 records, with other requests waiting for the GIL)."""

    def run(sql: str) -> dict[str, np.ndarray]:
        if sql.startswith("CREATE TEMP TABLE"):
            sql = sql.replace(" AS SELECT", " ON COMMIT DROP AS SELECT", 1)
        with db.store.conn.cursor() as cur:  # type: ignore[attr-defined]
            if sql.startswith("SELECT"):
                cur.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
                types = [_BINARY.get(c.type_code) for c in cur.description or ()]
                if types and all(t is not None for t in types):
                    names = [c.name for c in cur.description or ()]
                    return _copied(cur, sql, names, [t for t in types if t is not None])
            cur.execute(sql)
            if not cur.description:
                return {}
            names = [c.name for c in cur.description]
            parts: list[list[np.ndarray]] = [[] for _ in names]
            while rows := cur.fetchmany(_FETCH_ROWS):
                for i, column in enumerate(zip(*rows, strict=True)):
                    parts[i].append(np.asarray(column, dtype=object if isinstance(column[0], str) else None))
        return {
            name: np.concatenate(part) if part else np.asarray([], dtype=object)
            for name, part in zip(names, parts, strict=True)
        }

    return run


def _copied(cur: Any, sql: str, names: list[str], types: list[np.dtype]) -> dict[str, np.ndarray]:
    """The rows of ``sql`` (fixed-width columns, none null) through binary COPY, as arrays: each
    row is a field count (int16), then each field's length (int32) and value."""
    data = bytearray()
    with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy:
        for chunk in copy:
            data += chunk
    fields: list[tuple[str, Any]] = [("count", ">i2")]
    for i, t in enumerate(types):
        fields += [(f"len{i}", ">i4"), (f"v{i}", t)]
    record = np.dtype(fields)
    body = memoryview(data)[_COPY_HEADER : len(data) - 2]  # the trailer: a field count of -1
    if len(body) % record.itemsize:
        raise ValueError(f"binary COPY of {len(body)} bytes is not rows of {record.itemsize}")
    rows = np.frombuffer(body, dtype=record)
    if rows.size and (rows["count"] != len(types)).any():
        raise ValueError("binary COPY rows do not have the query's columns")
    for i, t in enumerate(types):
        if rows.size and (rows[f"len{i}"] != t.itemsize).any():
            raise ValueError(f"binary COPY column {names[i]} is null or not {t.itemsize} bytes")
    native = [t.newbyteorder("=") for t in types]
    return {name: rows[f"v{i}"].astype(native[i]) for i, name in enumerate(names)}


# -- one copy per store and process, loaded beside the SQL path ------------------------------------
@dataclass
class _Held:
    postings: Postings | None = None
    loading: tuple[int, ...] | None = None
    failed: tuple[int, ...] | None = None
    done: threading.Event = field(default_factory=threading.Event)  # set when the current load ends


_HELD: dict[str, _Held] = {}
_HELD_LOCK = threading.Lock()


def enabled() -> bool:
    return os.environ.get("CRUCE_SEARCH_IN_MEMORY", "1") != "0"


def held(db: AppDB, generation: tuple[int, ...], entities: int, *, wait: bool = False) -> Postings | None:
    """The postings of this generation if they are in memory; otherwise starts loading them (in
    the background, on a connection of the loader's own; at once when ``wait``) and returns None
    when the caller should use SQL meanwhile. Above ``MAX_ENTITIES`` the index stays in the store.

    On PostgreSQL the load once ran at once on the request's connection: the first search of each
    worker, and of each worker after an import, waited for the whole index (3.4 s at 20,000
    records on the 2-core machine) where the SQL path answers in tens of milliseconds."""
    if not enabled() or entities > MAX_ENTITIES or entities == 0:
        return None
    while True:
        with _HELD_LOCK:
            slot = _HELD.setdefault(db.store.url, _Held())
            if slot.postings is not None and slot.postings.generation == generation:
                return slot.postings
            if slot.failed == generation:
                return None
            if slot.loading is None:
                slot.loading, slot.done = generation, threading.Event()
                break
            done = slot.done
        if not wait:
            return None
        done.wait(timeout=600)
    if db.backend == "postgresql":
        sibling = getattr(db.store, "sibling", None)  # a connection for the loader alone
        if sibling is None:
            return _load_postgresql(db, slot, generation)
        try:
            loader = AppDB(sibling())
        except Exception:
            log.exception("search postings not loaded; searches use the store")
            return _keep(slot, generation, None)
        if wait:
            return _load_postgresql(loader, slot, generation, close=True)
        threading.Thread(target=_load_postgresql, args=(loader, slot, generation, True), daemon=True).start()
        return None
    cursor = db.duckdb_cursor()  # used by the loader alone
    if wait:
        return _load_duckdb(cursor, db.store.url, slot, generation)
    threading.Thread(target=_load_duckdb, args=(cursor, db.store.url, slot, generation), daemon=True).start()
    return None


def share(db: AppDB, generation: tuple[int, ...], entities: int) -> Path | None:
    """For the web workers of a team server (PostgreSQL): the index's postings loaded once, by the
    job process that brought the index up to date, and written as a snapshot they read
    (``save_snapshot``). None where there is nothing to share (DuckDB: one process serves)."""
    if db.backend != "postgresql" or not enabled() or entities > MAX_ENTITIES or entities == 0:
        return None
    with db.transaction():
        postings = load(postgresql_columns(db))
    return save_snapshot(db.store.url, postings) if postings.generation == generation else None


def _load_postgresql(db: AppDB, slot: _Held, generation: tuple[int, ...], close: bool = False) -> Postings | None:
    """Load from the snapshot the job process wrote (``save_snapshot``), else in one transaction of
    ``db``; ``close``: the connection was the loader's own."""
    started = time.perf_counter()
    try:
        loaded = load_snapshot(db.store.url, generation)
        if loaded is None:
            with db.transaction():
                loaded = load(postgresql_columns(db))
        log.info("search postings of %s loaded in %.1f s", db.store.url, time.perf_counter() - started)
    except Exception:
        log.exception("search postings not loaded; searches use the store")
        loaded = None
    finally:
        if close:
            db.store.close()
    return _keep(slot, generation, loaded)


def _load_duckdb(cursor: Any, url: str, slot: _Held, generation: tuple[int, ...]) -> Postings | None:
    started = time.perf_counter()
    try:
        cursor.execute("BEGIN TRANSACTION")
        try:
            loaded: Postings | None = load(duckdb_columns(cursor))
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()
        log.info("search postings of %s loaded in %.1f s", url, time.perf_counter() - started)
    except Exception:
        log.exception("search postings not loaded; searches use the store")
        loaded = None
    return _keep(slot, generation, loaded)


def _keep(slot: _Held, generation: tuple[int, ...], loaded: Postings | None) -> Postings | None:
    with _HELD_LOCK:
        slot.loading = None
        slot.done.set()
        if loaded is None:
            slot.failed = generation
            return None
        slot.postings = loaded
        return loaded if loaded.generation == generation else None


def current(url: str) -> Postings | None:
    """The copy in memory of a store's index, whatever its generation (None: none loaded)."""
    with _HELD_LOCK:
        slot = _HELD.get(url)
        return slot.postings if slot is not None else None
