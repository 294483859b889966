"""The organization registry: cartels and cells with their names, leaders and members, alliances,
rivalries, splits and successions, and the plazas they hold or dispute — each claim with the
rows of the files that make it.

Everything is read from relations of the schema (``MemberOf``, ``Leads``, ``AlliedWith``,
``RivalOf``, ``SplitFrom``, ``Controls``) between resolved entities: an organization, a person or a
plaza is its canonical entity (``entity_cluster``), so two records of one cartel joined by record
linkage are one organization here. An organization of the registry is one typed cartel or gang,
or one at either end of those relations.

Dates are the sources' own (``2019-06-01``, ``2019-06`` or ``2019``); a span covers a day when it
starts on or before it (an unknown start: always) and ends on or after it (no end: still going
on). A partial date covers its whole month or year. Without a date asked for, figures are "as of"
the latest date in the relations, the day the registry last says something happened.

The names of protected people (those a protected property points at, such as a case's victim) are
never shown here, whoever asks: such a member counts, with no name.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Self

import pyarrow as pa

from cruce.analyses.tables import FINISHED, Reads, Tables, prop_mark, read, reads_of, refs_sql, values_sql
from cruce.i18n import _

# relation type -> (kind used in the answers, the property at the "a" end, the one at the "b" end)
RELATIONS: dict[str, tuple[str, str, str]] = {
    "MemberOf": ("member", "member", "organization"),
    "Leads": ("leader", "leader", "organization"),
    "AlliedWith": ("alliance", "organization", "ally"),
    "RivalOf": ("rivalry", "organization", "rival"),
    "SplitFrom": ("split", "organization", "parent"),
    "Controls": ("claim", "organization", "plaza"),
}
CRIMINAL_TYPES = ("cartel", "gang")
_RELATION_VALUES = {
    "start_date": "start_date",
    "end_date": "end_date",
    "role": "role",
    "confidence": "confidence",
    "summary": "summary",
    "disputed": "disputed",
}
TIMELINE_KINDS = (
    "founded", "split_from", "faction_split", "leader_out", "succession", "leader_in", "alliance_start",
    "alliance_end", "rivalry_start", "rivalry_end", "dispute_start", "dispute_end", "plaza_lost", "plaza_gained",
    "dissolved",
)  # fmt: skip
"""Kinds of timeline entries, in the order they are listed on one day."""


class UnknownOrganizationError(LookupError):
    """No organization of the registry has this id (or name)."""


def _refs_among(props: Iterable[tuple[str, str]]) -> str:
    """The records that these reference properties point at (a query of ids)."""
    marks = ", ".join(prop_mark(schema, prop) for schema, prop in props)
    return f"SELECT target FROM entity_ref WHERE prop_id IN ({marks}) AND import_no {FINISHED}"


def _canonical(alias: str, column: str = "entity_id") -> str:
    return f"CAST(COALESCE(c.canonical_id, {alias}.{column}) AS VARCHAR)"


def _relations_sql(text_ids: bool) -> str:
    parts = []
    for schema, (kind, a, b) in RELATIONS.items():
        values = values_sql(schema, _RELATION_VALUES, numbers=frozenset({"confidence"}))
        refs = refs_sql(schema, {"a": a, "b": b}, text_ids)
        parts.append(
            f"SELECT '{kind}' AS kind, CAST(r.entity_id AS VARCHAR) AS relation, "
            "CAST(r.a_rec AS VARCHAR) AS a_rec, CAST(r.a AS VARCHAR) AS a, "
            "CAST(r.b_rec AS VARCHAR) AS b_rec, CAST(r.b AS VARCHAR) AS b, "
            "v.start_date, v.end_date, v.role, v.confidence, v.summary, v.disputed "
            f"FROM ({refs}) AS r LEFT JOIN ({values}) AS v ON v.entity_id = r.entity_id "
            "WHERE r.a IS NOT NULL AND r.b IS NOT NULL"
        )
    return " UNION ALL ".join(parts)


def queries(text_ids: bool) -> dict[str, str]:
    """What the registry reads: organization records, their names, the relations, the people and
    plazas at their ends, the rows behind each relation, and the protected people."""
    key = "CAST(hq.entity_id AS VARCHAR)" if text_ids else "hq.entity_id"
    org_values = values_sql(
        "Organization",
        {"name": "name", "org_type": "org_type", "country": "country", "founded": "founded_date",
         "dissolved": "dissolved_date", "description": "description", "notes": "notes"},
    )  # fmt: skip
    home_refs = refs_sql("Organization", {"hq": "headquarters"}, text_ids)
    homes = values_sql("Location", {"state": "state"}, among=_refs_among([("Organization", "headquarters")]))
    people = values_sql(
        "Person", {"name": "name", "alias": "alias"}, among=_refs_among([("MemberOf", "member"), ("Leads", "leader")])
    )
    plazas = values_sql(
        "Location",
        {"name": "name", "municipality": "municipality", "state": "state", "geo": "geo"},
        among=_refs_among([("Controls", "plaza")]),
    )
    relation_props = ", ".join(
        prop_mark(schema, prop) for schema, (_k, a, b) in RELATIONS.items() for prop in (a, b, *_RELATION_VALUES)
    )
    return {
        "org_records": (
            f"SELECT CAST(o.entity_id AS VARCHAR) AS record, {_canonical('o')} AS org, o.org_type, o.country, "
            "o.founded, o.dissolved, o.description, o.notes, hq.state AS home_state "
            f"FROM ({org_values}) AS o LEFT JOIN entity_cluster c ON c.entity_id = o.entity_id "
            f"LEFT JOIN ({home_refs}) AS h ON h.entity_id = o.entity_id "
            f"LEFT JOIN ({homes}) AS hq ON {key} = h.hq_rec"
        ),
        "org_names": (
            "SELECT CAST(s.entity_id AS VARCHAR) AS record, "
            f"CASE WHEN s.prop_id = {prop_mark('Organization', 'alias')} THEN 'alias' ELSE 'name' END AS kind, "
            "s.value, s.import_no, s.source_row FROM statement s "
            f"WHERE s.prop_id IN ({prop_mark('Organization', 'name')}, {prop_mark('Organization', 'alias')}) "
            f"AND s.import_no {FINISHED}"
        ),
        "relations": _relations_sql(text_ids),
        "people": (
            f"SELECT CAST(p.entity_id AS VARCHAR) AS record, {_canonical('p')} AS person, p.name, p.alias "
            f"FROM ({people}) AS p LEFT JOIN entity_cluster c ON c.entity_id = p.entity_id"
        ),
        "plazas": (
            f"SELECT CAST(p.entity_id AS VARCHAR) AS record, {_canonical('p')} AS place, p.name, p.municipality, "
            f"p.state, p.geo FROM ({plazas}) AS p LEFT JOIN entity_cluster c ON c.entity_id = p.entity_id"
        ),
        "sources": (
            "SELECT DISTINCT CAST(s.entity_id AS VARCHAR) AS relation, s.import_no, s.source_row FROM statement s "
            f"WHERE s.prop_id IN ({relation_props}) AND s.import_no {FINISHED} AND s.source_row IS NOT NULL"
        ),
        "imports": f"SELECT no AS import_no, CAST(id AS VARCHAR) AS import_id, dataset, source_file FROM import_run "
        f"WHERE no {FINISHED}",
        # every reference that makes its target protected, of any import (as the guard counts them)
        "protected": (
            f"SELECT DISTINCT {_canonical('r', 'target')} AS person FROM entity_ref r "
            "LEFT JOIN entity_cluster c ON c.entity_id = r.target WHERE r.protected"
        ),
    }


_S, _F, _I32, _I64 = pa.string(), pa.float64(), pa.int32(), pa.int64()
PG_TYPES: dict[str, dict[str, pa.DataType]] = {
    "org_records": {"record": _S, "org": _S, "org_type": _S, "country": _S, "founded": _S, "dissolved": _S,
                    "description": _S, "notes": _S, "home_state": _S},
    "org_names": {"record": _S, "kind": _S, "value": _S, "import_no": _I32, "source_row": _I64},
    "relations": {"kind": _S, "relation": _S, "a_rec": _S, "a": _S, "b_rec": _S, "b": _S, "start_date": _S,
                  "end_date": _S, "role": _S, "confidence": _F, "summary": _S, "disputed": _S},
    "people": {"record": _S, "person": _S, "name": _S, "alias": _S},
    "plazas": {"record": _S, "place": _S, "name": _S, "municipality": _S, "state": _S, "geo": _S},
    "sources": {"relation": _S, "import_no": _I32, "source_row": _I64},
    "imports": {"import_no": _I32, "import_id": _S, "dataset": _S, "source_file": _S},
    "protected": {"person": _S},
}  # fmt: skip


def _low(column: str) -> str:
    """The first day a partial date (``2019``, ``2019-06``) may mean."""
    return f"CASE length({column}) WHEN 4 THEN {column} || '-01-01' WHEN 7 THEN {column} || '-01' ELSE {column} END"


def _high(column: str) -> str:
    """The last day a partial date may mean (``-31`` for any month: the dates are compared as text)."""
    return f"CASE length({column}) WHEN 4 THEN {column} || '-12-31' WHEN 7 THEN {column} || '-31' ELSE {column} END"


class OrgData(Tables):
    """The registry's tables: ``orgs`` (one row per organization of the registry, canonical),
    ``names``, ``rel`` (every relation between canonical ends, with its span's first and last
    day), ``people``, ``plazas``, ``sources`` (dataset, file and row behind each relation)."""

    def __init__(self, tables: dict[str, pa.Table]) -> None:
        super().__init__()
        for name, table in tables.items():
            self.con.register(f"{name}_raw", table)
        self.con.execute(
            "CREATE TABLE rel AS SELECT *, "
            f"substr({_low('start_date')}, 1, 10) AS start_lo, substr({_high('end_date')}, 1, 10) AS end_hi, "
            f"substr({_low('end_date')}, 1, 10) AS end_lo FROM relations_raw"
        )
        types = ", ".join(f"'{t}'" for t in CRIMINAL_TYPES)
        self.con.execute(
            "CREATE TABLE orgs AS SELECT org, first(org_type ORDER BY record) FILTER (WHERE org_type IS NOT NULL) "
            "AS org_type, first(country ORDER BY record) FILTER (WHERE country IS NOT NULL) AS country, "
            "min(founded) AS founded, max(dissolved) AS dissolved, "
            "first(home_state ORDER BY record) FILTER (WHERE home_state IS NOT NULL) AS home_state, "
            "first(description ORDER BY record) FILTER (WHERE description IS NOT NULL) AS description, "
            "first(notes ORDER BY record) FILTER (WHERE notes IS NOT NULL) AS notes "
            "FROM org_records_raw GROUP BY org "
            f"HAVING bool_or(org_type IN ({types})) OR org IN (SELECT a FROM rel UNION SELECT b FROM rel)"
        )
        self.con.execute(
            "CREATE TABLE names AS SELECT o.org, n.kind, n.value, min(n.import_no) AS import_no, "
            "min(n.source_row) AS source_row FROM org_names_raw n JOIN org_records_raw o ON o.record = n.record "
            "GROUP BY o.org, n.kind, n.value"
        )
        self.con.execute(
            "CREATE TABLE people AS SELECT p.*, p.person IN (SELECT person FROM protected_raw) AS protected "
            "FROM people_raw p"
        )
        self.con.execute("CREATE TABLE plazas AS SELECT * FROM plazas_raw")
        self.con.execute(
            "CREATE TABLE sources AS SELECT s.relation, i.dataset, i.source_file AS file, s.source_row AS row, "
            "i.import_id FROM sources_raw s JOIN imports_raw i ON i.import_no = s.import_no"
        )
        for name in tables:
            self.con.unregister(f"{name}_raw")

    @classmethod
    def reads(cls) -> Reads:
        return reads_of(tuple(queries(text_ids=False).values()))

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None) -> Self:
        return cls(read(store, queries(text_ids=store.backend != "duckdb"), PG_TYPES, imports))


# -- lookups shared by the answers -------------------------------------------------------------------
class _Names:
    """Display names of the organizations, people and plazas at the ends of the relations."""

    def __init__(self, data: OrgData) -> None:
        self.orgs: dict[str, str] = {}
        self.aliases: dict[str, list[str]] = defaultdict(list)
        for row in data.rows("SELECT org, kind, value FROM names ORDER BY org, import_no, source_row, value"):
            if row["kind"] == "name" and row["org"] not in self.orgs:
                self.orgs[row["org"]] = row["value"]  # the name it was first recorded under
        for row in data.rows("SELECT org, value FROM names ORDER BY org, kind DESC, import_no, source_row, value"):
            if row["value"] != self.orgs.get(row["org"]) and row["value"] not in self.aliases[row["org"]]:
                self.aliases[row["org"]].append(row["value"])  # aliases first, then other names
        self.people = {r["record"]: r for r in data.rows("SELECT * FROM people")}
        self.plazas = {r["record"]: r for r in data.rows("SELECT * FROM plazas")}

    def org(self, org_id: str) -> str | None:
        return self.orgs.get(org_id)

    def person(self, record: str) -> dict[str, Any]:
        """A member or leader by the record the relation names: name and alias (none if protected)."""
        found = self.people.get(record)
        if found is None:  # a member that is not a person: an organization (a cell)
            return {"name": None, "alias": None, "type": "Organization", "protected": False}
        shown = not found["protected"]
        return {
            "name": found["name"] if shown else None,
            "alias": found["alias"] if shown else None,
            "type": "Person",
            "protected": bool(found["protected"]),
        }

    def plaza(self, record: str) -> dict[str, Any]:
        found = self.plazas.get(record) or {}
        return {k: found.get(k) for k in ("name", "municipality", "state", "geo")}


def latest_date(data: OrgData) -> str | None:
    """The last day the registry says something happened (a relation began or ended)."""
    found = data.one("SELECT max(greatest(start_lo, end_lo)) AS day FROM rel")
    return found.get("day")


def _covers(day: str) -> tuple[str, list[str]]:
    """A condition on ``rel`` rows whose span covers ``day``, and its parameters."""
    return "(start_lo IS NULL OR start_lo <= ?) AND (end_hi IS NULL OR end_hi >= ?)", [day, day]


def _disputed(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _sources(data: OrgData, org_id: str) -> dict[str, list[dict[str, Any]]]:
    """The dataset, file (its name) and row of each row that states something of a relation of the
    organization, by relation."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data.rows(
        "SELECT s.* FROM sources s WHERE s.relation IN (SELECT relation FROM rel WHERE a = ? OR b = ?) "
        "ORDER BY s.dataset, s.file, s.row, s.import_id",
        [org_id, org_id],
    ):
        found[row["relation"]].append(
            {"dataset": row["dataset"], "file": os.path.basename(row["file"]), "row": row["row"],
             "import_id": row["import_id"]}
        )  # fmt: skip
    return found


# -- the registry ------------------------------------------------------------------------------------
def registry(data: OrgData) -> dict[str, Any]:
    """Every organization of the registry, with what it is as of the latest date in the data: its
    members then, its leaders, the plazas it holds (undisputed claims) and its allies and rivals."""
    names = _Names(data)
    as_of = latest_date(data)
    now = _covers(as_of or "9999-12-31")
    orgs = data.rows("SELECT * FROM orgs")
    counts: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in data.rows("SELECT kind, a, b FROM rel WHERE kind IN ('member', 'alliance', 'rivalry')"):
        counts[row["b"], f"{row['kind']}_all"].add(row["a"])
    current: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in data.rows(f"SELECT * FROM rel WHERE {now[0]} ORDER BY start_lo, relation", now[1]):
        if row["kind"] in ("member", "leader"):
            current[row["b"], row["kind"]].append(row)
        elif row["kind"] in ("alliance", "rivalry") and row["a"] != row["b"]:
            current[row["a"], row["kind"]].append({**row, "other": row["b"]})
            current[row["b"], row["kind"]].append({**row, "other": row["a"]})
        elif row["kind"] == "claim" and _disputed(row["disputed"]) is not True:
            current[row["a"], "claim"].append(row)
    out = []
    for org in orgs:
        oid = org["org"]
        leaders = _unique(
            (r["a"], names.person(r["a_rec"])["name"] or names.org(r["a"])) for r in current[oid, "leader"]
        )
        plazas = _unique((r["b"], names.plaza(r["b_rec"])["name"]) for r in current[oid, "claim"])
        out.append(
            {
                "id": oid,
                "name": names.org(oid),
                "aliases": names.aliases[oid],
                "org_type": org["org_type"],
                "country": org["country"],
                "home_state": org["home_state"],
                "founded": org["founded"],
                "dissolved": org["dissolved"],
                "members": len(counts[oid, "member_all"]),
                "current_members": len({r["a"] for r in current[oid, "member"]}),
                "leaders": [{"id": i, "name": n} for i, n in leaders],
                "plazas": [{"id": i, "name": n} for i, n in plazas],
                "allies": len({r["other"] for r in current[oid, "alliance"]}),
                "rivals": len({r["other"] for r in current[oid, "rivalry"]}),
            }
        )
    out.sort(key=lambda o: ((o["name"] or "").casefold(), o["id"]))
    return {"as_of": as_of, "organizations": out}


def _unique(pairs: Iterable[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    seen: dict[str, str | None] = {}
    for key, name in pairs:
        seen.setdefault(key, name)
    return list(seen.items())


def find(data: OrgData, text: str) -> str:
    """The id of the organization named ``text``: its id, or one of its names or aliases (case and
    accents aside); an error when none is, or when the name is several organizations'."""
    if data.one("SELECT org FROM orgs WHERE org = ?", [text]):
        return text
    found = data.rows(
        "SELECT DISTINCT n.org FROM names n JOIN orgs o USING (org) "
        "WHERE lower(strip_accents(n.value)) = lower(strip_accents(?)) ORDER BY 1",
        [text.strip()],
    )
    if not found:
        raise UnknownOrganizationError(_("No organization {id} in the registry.").format(id=text))
    if len(found) > 1:
        raise UnknownOrganizationError(
            _("{name} names several organizations: {ids}.").format(name=text, ids=", ".join(r["org"] for r in found))
        )
    return str(found[0]["org"])


# -- one organization --------------------------------------------------------------------------------
def organization(data: OrgData, org_id: str) -> dict[str, Any]:
    """One organization: its names; leaders and members with their spans; alliances, rivalries,
    splits (factions that broke from it, the organization it broke from) and successions; the
    plazas it claims, each with the rows behind the claim; its timeline and its network."""
    org = data.one("SELECT * FROM orgs WHERE org = ?", [org_id])
    if not org:
        raise UnknownOrganizationError(_("No organization {id} in the registry.").format(id=org_id))
    names = _Names(data)
    rows = data.rows("SELECT * FROM rel WHERE a = ? OR b = ? ORDER BY start_lo NULLS FIRST, relation", [org_id, org_id])
    sources = _sources(data, org_id)

    def base(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "relation": row["relation"],
            "start": row["start_date"],
            "end": row["end_date"],
            "confidence": row["confidence"],
            "source": row["summary"],
            "sources": sources.get(row["relation"], []),
        }

    def person(row: dict[str, Any]) -> dict[str, Any]:
        who = names.person(row["a_rec"])
        name = who["name"] if who["type"] == "Person" else names.org(row["a"])
        return {"id": row["a"], "name": name, "alias": who["alias"], "type": who["type"], "role": row["role"],
                **base(row)}  # fmt: skip

    def other(row: dict[str, Any]) -> dict[str, Any]:
        oid = row["b"] if row["a"] == org_id else row["a"]
        return {"id": oid, "name": names.org(oid), **base(row)}

    def of(kind: str, end: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["kind"] == kind and r[end] == org_id and r["a"] != r["b"]]

    leaders = [person(r) for r in of("leader", "b")]
    claims = [_claim(r, names, base(r)) for r in of("claim", "a")]
    found = {
        "id": org_id,
        "name": names.org(org_id),
        "aliases": names.aliases[org_id],
        **{k: org[k] for k in ("org_type", "country", "home_state", "founded", "dissolved", "description", "notes")},
        "leaders": leaders,
        "members": [person(r) for r in of("member", "b")],
        "alliances": [other(r) for r in rows if r["kind"] == "alliance" and r["a"] != r["b"]],
        "rivalries": [other(r) for r in rows if r["kind"] == "rivalry" and r["a"] != r["b"]],
        "factions": [other(r) for r in of("split", "b")],
        "broke_from": [other(r) for r in of("split", "a")],
        "successions": successions(leaders),
        "claims": claims,
    }
    found["timeline"] = _timeline(found)
    found["network"] = _network(found)
    return found


def _claim(row: dict[str, Any], names: _Names, base: dict[str, Any]) -> dict[str, Any]:
    place = names.plaza(row["b_rec"])
    return {
        "plaza_id": row["b"],
        "plaza": place["name"],
        "municipality": place["municipality"],
        "state": place["state"],
        "geo": place["geo"],
        "disputed": _disputed(row["disputed"]),
        **base,
    }


def successions(leaders: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leadership changes: each leadership that begins after another has ended, with the leader
    whose leadership ended last before it (the one it followed)."""
    out = []
    ended = sorted((x for x in leaders if x["end"]), key=lambda x: x["end"])
    for new in sorted((x for x in leaders if x["start"]), key=lambda x: x["start"]):
        before = [old for old in ended if old["end"] <= new["start"] and old["id"] != new["id"]]
        if before:
            old = before[-1]
            out.append(
                {"date": new["start"], "from_id": old["id"], "from_name": old["name"], "to_id": new["id"],
                 "to_name": new["name"], "previous_end": old["end"]}
            )  # fmt: skip
    return out


def _timeline(org: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything dated that happened to the organization, oldest first: ``{date, kind, parts}``,
    ``parts`` naming who or what (``leader``, ``from``/``to``, ``ally``, ``rival``, ``faction``,
    ``parent``, ``plaza``) as ``{id, name}``; the page words each kind."""
    events: list[dict[str, Any]] = []

    def add(day: str | None, kind: str, **parts: dict[str, Any]) -> None:
        if day:
            events.append({"date": day, "kind": kind, "parts": parts})

    def ref(item: dict[str, Any], key: str = "id", name: str = "name") -> dict[str, Any]:
        return {"id": item[key], "name": item[name]}

    add(org["founded"], "founded")
    add(org["dissolved"], "dissolved")
    followed = {(s["to_id"], s["date"]) for s in org["successions"]}
    for s in org["successions"]:
        add(s["date"], "succession", **{"from": ref(s, "from_id", "from_name"), "to": ref(s, "to_id", "to_name")})
    for leader in org["leaders"]:
        if (leader["id"], leader["start"]) not in followed:
            add(leader["start"], "leader_in", leader=ref(leader))
        add(leader["end"], "leader_out", leader=ref(leader))
    for kind, key, role in (("alliance", "alliances", "ally"), ("rivalry", "rivalries", "rival")):
        for bond in org[key]:
            add(bond["start"], f"{kind}_start", **{role: ref(bond)})
            add(bond["end"], f"{kind}_end", **{role: ref(bond)})
    for split in org["factions"]:
        add(split["start"], "faction_split", faction=ref(split))
    for split in org["broke_from"]:
        add(split["start"], "split_from", parent=ref(split))
    for claim in org["claims"]:
        plaza = ref(claim, "plaza_id", "plaza")
        began, ended = ("dispute_start", "dispute_end") if claim["disputed"] else ("plaza_gained", "plaza_lost")
        add(claim["start"], began, plaza=plaza)
        add(claim["end"], ended, plaza=plaza)
    order = {kind: i for i, kind in enumerate(TIMELINE_KINDS)}
    events.sort(key=lambda e: (e["date"], order[e["kind"]], str(e["parts"])))
    return events


def _network(org: dict[str, Any]) -> dict[str, Any]:
    """The organization and what it is tied to (allies, rivals, factions, the organization it broke
    from, plazas, leaders): nodes ``{id, name, type, role}`` and edges ``{source, target, kind,
    start, end, relation}`` (one per relation: an alliance renewed is two edges)."""
    nodes: dict[str, dict[str, Any]] = {org["id"]: {"id": org["id"], "name": org["name"], "type": "Organization",
                                                    "role": "self"}}  # fmt: skip
    edges = []

    def tie(item: dict[str, Any], node_id: str, name: str | None, kind_of_node: str, role: str, kind: str,
            outward: bool) -> None:  # fmt: skip
        nodes.setdefault(node_id, {"id": node_id, "name": name, "type": kind_of_node, "role": role})
        source, target = (org["id"], node_id) if outward else (node_id, org["id"])
        edges.append({"source": source, "target": target, "kind": kind, "start": item["start"], "end": item["end"],
                      "relation": item["relation"]})  # fmt: skip

    for item in org["alliances"]:
        tie(item, item["id"], item["name"], "Organization", "ally", "allied_with", True)
    for item in org["rivalries"]:
        tie(item, item["id"], item["name"], "Organization", "rival", "rival_of", True)
    for item in org["factions"]:
        tie(item, item["id"], item["name"], "Organization", "faction", "split_from", False)
    for item in org["broke_from"]:
        tie(item, item["id"], item["name"], "Organization", "parent", "split_from", True)
    for item in org["claims"]:
        kind = "disputes" if item["disputed"] else "controls"
        tie(item, item["plaza_id"], item["plaza"], "Location", "plaza", kind, True)
    for item in org["leaders"]:
        tie(item, item["id"], item["name"], item["type"], "leader", "leads", False)
    return {"nodes": list(nodes.values()), "edges": edges}


# -- territory -------------------------------------------------------------------------------------
def territory(data: OrgData, on: str | None = None) -> dict[str, Any]:
    """Who holds and who disputes each plaza on a day (``YYYY-MM-DD``; none: the latest date in
    the data): every claim whose span covers it, with the plaza's state and municipality. Also the
    first and last day of the claims and every day one begins or ends (for a time slider)."""
    names = _Names(data)
    day = on or latest_date(data)
    span = data.one(
        "SELECT min(start_lo) AS first, max(greatest(start_lo, end_lo)) AS last FROM rel WHERE kind = 'claim'"
    )
    changes = data.rows(
        "SELECT DISTINCT d FROM (SELECT start_date AS d FROM rel WHERE kind = 'claim' UNION "
        "SELECT end_date FROM rel WHERE kind = 'claim') WHERE d IS NOT NULL ORDER BY d"
    )
    claims = []
    if day is not None:
        where, params = _covers(day)
        for row in data.rows(f"SELECT * FROM rel WHERE kind = 'claim' AND a <> b AND {where}", params):
            place = names.plaza(row["b_rec"])
            claims.append(
                {
                    "plaza_id": row["b"],
                    "plaza": place["name"],
                    "municipality": place["municipality"],
                    "state": place["state"],
                    "geo": place["geo"],
                    "org_id": row["a"],
                    "org": names.org(row["a"]),
                    "disputed": _disputed(row["disputed"]),
                    "start": row["start_date"],
                    "end": row["end_date"],
                    "confidence": row["confidence"],
                    "relation": row["relation"],
                }
            )
    claims.sort(
        key=lambda c: (c["state"] or "", c["plaza"] or "", c["disputed"] is True, c["org"] or "", c["relation"])
    )
    return {
        "on": day,
        "first": span.get("first"),
        "last": span.get("last"),
        "changes": [r["d"] for r in changes],
        "claims": claims,
    }
