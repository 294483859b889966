"""Every read of the store on behalf of a person goes through ``Guard``: pages, API, exports.

It applies the dataset markings and groups (``policy.may_see``), redacts protected values
(``policy.may_see_protected``), and writes an audit entry whenever a protected value is shown
or data leaves the system. Surfaces never query the statement store directly.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from cruce.people.assistance import AssistanceCases, Case, Step
from cruce.schema.model import PropertyType, Schema
from cruce.search import (
    Filters,
    Found,
    IndexState,
    Props,
    Vocabulary,
    catch_up,
    catching_up,
    find,
    held_vocabulary,
    props_of,
    query_words,
    state,
    value_terms,
    vocabulary,
)
from cruce.search import fold as fold  # re-exported: cruce.security.fold
from cruce.search import memory as search_memory
from cruce.security.accounts import Accounts, Principal, Role
from cruce.security.audit import AuditLog
from cruce.security.db import AppDB
from cruce.security.keys import derive, load_secret
from cruce.security.policy import (
    NON_IDENTIFYING,
    REDACTED,
    DatasetPolicy,
    Policies,
    may_see,
    may_see_protected,
    protected_properties,
    protected_references,
)
from cruce.security.sessions import Sessions
from cruce.security.tips import Tips
from cruce.store.base import DatasetSummary, Entity, ImportRecord, Reject, Statement, Store
from cruce.store.memo import import_landing, once, per_import

T = TypeVar("T")


@dataclass(frozen=True)
class Link:
    """One reference between two records, as ``entity_ref`` holds it, named."""

    source: str  # the record whose property points
    target: str
    schema: str  # the source's type and property ("" when the property is not known yet)
    prop: str
    protected: bool
    dataset: str | None  # None: an import still under way
    import_no: int


@dataclass(frozen=True)
class MatchShown:
    """Why a hit matched one query word: the value (as the principal may see it) and the rule."""

    word: str
    term: str
    prop: str
    value: str
    rule: str  # exact, stem, variant, fuzzy or prefix (cruce.search.expand)


@dataclass(frozen=True)
class SearchHit:
    entity_id: str
    schema: str
    caption: str
    matched_property: str
    matched_value: str
    datasets: tuple[str, ...]
    score: int = 0
    matches: tuple[MatchShown, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    hits: tuple[SearchHit, ...]
    protected: bool = False  # the search matched protected values (within the principal's caseload)
    facets: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)  # facet → value → hits


@dataclass(frozen=True)
class Reference:
    """Another entity pointing at this one (a purchase naming its buyer, a case its victim)."""

    entity_id: str
    schema: str
    prop: str
    caption: str
    entity: Entity | None = None  # the referring entity as the principal may see it


@dataclass(frozen=True)
class EntityWithLinks:
    """What the entity page shows: the entity, what it points at (by the value naming it), what points at it."""

    entity: Entity
    targets: dict[str, Entity]
    references: list[Reference]


@dataclass(frozen=True)
class Access:
    """What one principal may see, worked out once for a request: datasets, and whose protected values."""

    visible: frozenset[str]
    caseload: frozenset[str]


class Security:
    """The application tables of one store: accounts, sessions, policies and the audit log."""

    def __init__(self, store: Store) -> None:
        self.db = AppDB(store)
        secret = load_secret(store.url)
        self.accounts = Accounts(self.db)
        self.sessions = Sessions(self.db, self.accounts)
        self.policies = Policies(self.db)
        self.audit = AuditLog(self.db, derive(secret, "audit"))
        self.tip_key = derive(secret, "tips")
        self.tips = Tips(self.db, self.tip_key)
        self.assistance = AssistanceCases(self.db, derive(secret, "assistance"))
        from cruce.investigations.store import Investigations  # it imports the policy module: not at the top

        self.investigations = Investigations(self.db, derive(secret, "investigations"))


class Guard:
    """Reads for a principal: only what their role, groups and the markings allow, redacted."""

    def __init__(self, store: Store, security: Security, schema: Schema) -> None:
        self.store = store
        self.security = security
        self.db = security.db
        self.schema = schema
        self._protected = protected_properties(schema)
        self._protected_refs = protected_references(schema)

    # -- datasets -----------------------------------------------------------------------------
    def policies(self) -> dict[str, DatasetPolicy]:
        """The policy of every dataset imported into, in one query (this runs for every request)."""
        datasets = sorted(set(self.dataset_of_import().values()))  # held until an import finishes
        return once(("policies", self.store.url), lambda: self.security.policies.all(datasets))

    def access(self, principal: Principal) -> Access:
        policies = self.policies()
        return Access(
            visible=frozenset(name for name, p in policies.items() if may_see(principal, p)),
            caseload=frozenset(name for name, p in policies.items() if may_see_protected(principal, [p])),
        )

    def visible_datasets(self, principal: Principal) -> list[str]:
        return sorted(name for name, policy in self.policies().items() if may_see(principal, policy))

    def visible_imports(self, principal: Principal) -> list[int]:
        """The finished imports of the datasets the principal may see (what an analysis reads for them)."""
        visible = set(self.visible_datasets(principal))
        return sorted(no for no, dataset in self.dataset_of_import().items() if dataset in visible)

    def datasets(self, principal: Principal) -> list[DatasetSummary]:
        visible = set(self.visible_datasets(principal))
        return [d for d in self.store.datasets() if d.name in visible]

    def imports(self, principal: Principal, dataset: str | None = None, limit: int = 50) -> list[ImportRecord]:
        """The latest imports into datasets the principal may see, newest first."""
        visible = set(self.visible_datasets(principal))
        found = [r for r in self.store.imports(dataset) if r.dataset in visible]
        found.sort(key=lambda r: r.started_at, reverse=True)
        return found[:limit]

    def find_import(self, principal: Principal, import_id: str) -> ImportRecord | None:
        return next((r for r in self.imports(principal, limit=1_000_000) if r.id == import_id), None)

    def rejects(
        self, principal: Principal, *, dataset: str | None = None, import_id: str | None = None
    ) -> Iterator[Reject]:
        """Rejected rows of visible datasets (the values are the file's own, shown to who may see the dataset)."""
        visible = set(self.visible_datasets(principal))
        if dataset is not None and dataset not in visible:
            return
        for reject in self.store.rejects(dataset=dataset, import_id=import_id):
            if reject.dataset in visible:
                yield reject

    def _caseload(self, principal: Principal) -> list[str]:
        """Datasets whose protected values this principal may see."""
        return sorted(name for name, p in self.policies().items() if may_see_protected(principal, [p]))

    # -- one entity ---------------------------------------------------------------------------
    def _protected_people(self, entity_ids: list[str]) -> set[str]:
        """Those of the entities that a protected property points at (a case's victim), in one query."""
        if not self._protected_refs or not entity_ids:
            return set()
        ids = sorted(set(entity_ids))
        ids = [i for i in ids if _is_uuid(i)]
        if not ids:
            return set()
        return set(self._all_protected_people() & set(ids))

    def _all_protected_people(self) -> frozenset[str]:
        """Every entity a protected property points at."""
        sql = "SELECT DISTINCT CAST(target AS VARCHAR) FROM entity_ref WHERE protected"
        return per_import(self.store, "protected people", lambda: frozenset(str(r[0]) for r in self.db.fetch(sql)))

    def property_names(self) -> dict[int, tuple[str, str]]:
        """Property number -> (type, property)."""
        sql = "SELECT prop_id, schema, prop FROM property"
        return per_import(
            self.store, "properties", lambda: {int(r[0]): (str(r[1]), str(r[2])) for r in self.db.fetch(sql)}
        )

    def dataset_of_import(self) -> dict[int, str]:
        """Finished import number -> its dataset."""
        return per_import(self.store, "datasets", lambda: {no: d for no, (_id, d) in self._imports().items()})

    def import_number(self, import_id: str) -> int | None:
        """The number of a finished import, by its id."""
        numbers = per_import(self.store, "import numbers", lambda: {i: no for no, (i, _d) in self._imports().items()})
        return numbers.get(str(import_id))

    def _imports(self) -> dict[int, tuple[str, str]]:
        sql = "SELECT no, CAST(id AS VARCHAR), dataset FROM import_run"
        return per_import(
            self.store, "imports", lambda: {int(r[0]): (str(r[1]), str(r[2])) for r in self.db.fetch(sql)}
        )

    def references_to(self, entity_ids: Sequence[str]) -> list[Link]:
        """Every reference to these entities (canonical UUID strings), finished imports or not: a
        reference of an import under way has no dataset, and still makes its target protected."""
        if not entity_ids:
            return []
        marks = ",".join("CAST(? AS UUID)" for _ in entity_ids)
        rows = self.db.fetch(
            "SELECT CAST(entity_id AS VARCHAR), CAST(target AS VARCHAR), prop_id, protected, import_no "
            f"FROM entity_ref WHERE target IN ({marks})",
            list(entity_ids),
        )
        return self._links(rows)

    def _links(self, rows: Iterable[tuple[Any, ...]]) -> list[Link]:
        props, datasets = self.property_names(), self.dataset_of_import()
        out = []
        for source, target, prop_id, protected, import_no in rows:
            schema, prop = props.get(int(prop_id), ("", ""))
            out.append(Link(str(source), str(target), schema, prop, bool(protected), datasets.get(int(import_no)),
                            int(import_no)))  # fmt: skip
        return out

    def _load(self, entity_ids: list[str]) -> dict[str, Entity]:
        """Several entities in one query (for a page of search hits, an entity's links)."""
        found: dict[str, Entity] = {}
        for eid, statements in self.store.statements_of(entity_ids).items():
            entity = found[eid] = Entity(id=eid, schema=statements[0].schema)
            for st in statements:
                entity.add(st)
        return found

    def entities_by_id(
        self,
        principal: Principal,
        entity_ids: list[str],
        *,
        access: Access | None = None,
        address: str | None = None,
        protected: set[str] | None = None,
        loaded: dict[str, Entity] | None = None,
    ) -> dict[str, Entity]:
        """Several entities as ``entity`` shows them (visible ones only), in three queries whatever their number.

        ``protected`` (which of them are protected people) and ``loaded`` (their statements), when
        the caller has read them for all of ``entity_ids``, save those queries.
        """
        ids = list(dict.fromkeys(entity_ids))
        if not ids:
            return {}
        access = access or self.access(principal)
        if protected is None or loaded is None:
            protected, loaded = self._protected_people(ids), self._load(ids)
        shown = {}
        for eid in ids:
            if eid not in loaded:
                continue
            entity = self.entity(
                principal, eid, address=address, access=access, protected_person=eid in protected, loaded=loaded[eid]
            )
            if entity is not None:
                shown[eid] = entity
        return shown

    def _is_protected_person(self, entity_id: str) -> bool:
        return bool(self._protected_people([entity_id]))

    def entity(
        self,
        principal: Principal,
        entity_id: str,
        *,
        address: str | None = None,
        access: Access | None = None,
        protected_person: bool | None = None,
        loaded: Entity | None = None,
    ) -> Entity | None:
        """The entity with only visible statements, protected values redacted; None if none visible.

        Showing a protected value is audited (the entity id and property names, never the values).
        ``access`` and ``protected_person``, when the caller has them for many entities, save the queries.
        """
        entity = loaded or self.store.entity(entity_id)
        if entity is None:
            return None
        access = access or self.access(principal)
        visible, caseload = access.visible, access.caseload
        person_protected = self._is_protected_person(entity_id) if protected_person is None else protected_person
        shown: list[Statement] = []
        disclosed: set[str] = set()
        for st in entity.statements:
            if st.dataset not in visible:
                continue
            protected = (st.schema, st.prop) in self._protected or (person_protected and st.prop not in NON_IDENTIFYING)
            if protected and st.dataset not in caseload:
                st = dataclasses.replace(st, value=REDACTED, original=None)
            elif protected:
                disclosed.add(st.prop)
            shown.append(st)
        if not shown:
            return None
        result = Entity(entity.id, entity.schema)
        for st in shown:
            result.add(st)
        if disclosed:
            self.security.audit.record(
                principal.username,
                "view_protected",
                target=entity_id,
                detail={"properties": sorted(disclosed)},
                address=address,
            )
        return result

    def references(
        self, principal: Principal, entity_id: str, limit: int = 200, *, access: Access | None = None
    ) -> list[Reference]:
        """Entities whose entity-reference properties point here, in visible datasets (from ``entity_ref``)."""
        access = access or self.access(principal)
        visible = sorted(access.visible)
        if not visible:
            return []
        if not _is_uuid(entity_id):
            return []
        marks = ",".join("?" for _ in visible)
        found = self.db.fetch(
            "SELECT DISTINCT CAST(r.entity_id AS VARCHAR), p.schema, p.prop FROM entity_ref r "
            "JOIN property p ON p.prop_id = r.prop_id WHERE r.target = CAST(? AS UUID) "
            f"AND r.import_no IN (SELECT no FROM import_run WHERE dataset IN ({marks}))",
            (entity_id, *visible),
        )
        rows = _first_referrers(found, limit)
        ids = sorted({r[0] for r in rows})
        protected, loaded = self._protected_people(ids), self._load(ids)
        return self._references(principal, rows, access, protected, loaded)

    def _references(
        self,
        principal: Principal,
        rows: list[tuple[str, str, str]],
        access: Access,
        protected: set[str],
        loaded: dict[str, Entity],
    ) -> list[Reference]:
        refs = []
        for eid, schema, prop in rows:
            stype = self.schema.types.get(schema)
            if stype is None or prop not in stype.properties or stype.properties[prop].type is not PropertyType.ENTITY:
                continue
            shown = self.entity(
                principal, eid, access=access, protected_person=eid in protected, loaded=loaded.get(eid)
            )
            refs.append(Reference(eid, schema, prop, caption(shown) if shown else eid, shown))
        return refs

    def entity_with_links(
        self,
        principal: Principal,
        entity_id: str,
        *,
        access: Access | None = None,
        address: str | None = None,
        limit: int = 200,
    ) -> EntityWithLinks | None:
        """``entity``, the entities it points at (``entities_by_id``) and ``references``, for the entity page.

        The same entities, redactions and audit entries as those three calls, in four queries
        rather than a dozen: the links both ways from ``entity_ref`` in one, whether the linked
        entities are protected people in one, and the statements of the entity and of every linked
        one in a single read of the statement table (the store keeps them for the next reads).
        """
        if not _is_uuid(entity_id):
            return None
        access = access or self.access(principal)
        key = str(uuid.UUID(entity_id))
        both = self._links(
            self.db.fetch(  # one scan, no join: the property names and datasets are held (``per_import``)
                "SELECT CAST(entity_id AS VARCHAR), CAST(target AS VARCHAR), prop_id, protected, import_no "
                "FROM entity_ref WHERE target = CAST(? AS UUID) OR entity_id = CAST(? AS UUID)",
                (entity_id, entity_id),
            )
        )
        into = [lk for lk in both if lk.target == key]  # a protected link counts even before its import finished
        person_protected = any(lk.protected for lk in into)
        incoming = _first_referrers(
            {(lk.source, lk.schema, lk.prop) for lk in into if lk.dataset in access.visible}, limit
        )
        # every entity it may point at, in any dataset: read now with the rest; shown below only if linked
        outgoing = {lk.target for lk in both if lk.source == key and lk.dataset is not None}
        linked = sorted(({r[0] for r in incoming} | outgoing) - {str(uuid.UUID(entity_id))})
        protected, loaded = self._protected_people(linked), self._load([entity_id, *linked])
        entity = self.entity(
            principal, entity_id, address=address, access=access, protected_person=person_protected,
            loaded=loaded.get(entity_id),
        )  # fmt: skip
        if entity is None:
            return None
        targets = self._targets(principal, entity, access, address, protected, loaded)
        references = self._references(principal, incoming, access, protected, loaded)
        return EntityWithLinks(entity, targets, references)

    def _targets(
        self,
        principal: Principal,
        entity: Entity,
        access: Access,
        address: str | None,
        protected: set[str],
        loaded: dict[str, Entity],
    ) -> dict[str, Entity]:
        """The entities this one's shown reference values name, as ``entities_by_id`` gives them."""
        stype = self.schema.types.get(entity.schema)
        ids: list[str] = []
        for st in entity.statements:
            spec = stype.properties.get(st.prop) if stype else None
            if spec is not None and spec.type is PropertyType.ENTITY and st.value != REDACTED:
                ids.append(st.value)
        ids = list(dict.fromkeys(ids))
        missing = [i for i in ids if i not in loaded]  # a value entity_ref did not hold (not a plain id)
        if missing:
            protected, loaded = protected | self._protected_people(missing), {**loaded, **self._load(missing)}
        return self.entities_by_id(principal, ids, access=access, address=address, protected=protected, loaded=loaded)

    # -- search -------------------------------------------------------------------------------
    def search(
        self,
        principal: Principal,
        query: str,
        *,
        schema: str | None = None,
        dataset: str | None = None,
        flow: str | None = None,
        place: str | None = None,
        year: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int = 50,
        offset: int = 0,
        access: Access | None = None,
    ) -> SearchResults:
        """Entities matching the words of the query, best first, each match explained, with facets.

        Words match accents and case aside, by stem in free text, as name variants and with
        typos (``cruce.search.expand``). Protected values are searched only where the principal
        may see them, so a search cannot reveal that a victim's name is in the store. Terms of
        imports not indexed yet are added first (``cruce.search.catch_up``); while another thread
        adds them, the search answers from the index as it is rather than wait (a server's searches
        once all waited seconds behind an import's catch-up).
        """
        words = query_words(query)
        access = access or self.access(principal)
        visible = sorted(access.visible)
        if dataset:
            visible = [d for d in visible if d == dataset]
        if not words or not visible:
            return SearchResults(query, 0, ())
        now = state(self.db)
        if now.behind and not (now.indexed and catching_up(self.db)):
            catch_up(self.db, self.schema, now)
            now = state(self.db)
        props = props_of(self.db, self.schema, now.properties)
        filters = Filters(schema, flow, place, year, date_from, date_to)
        in_memory: search_memory.Postings | None = None  # dates are asked of the store
        before = None if filters.dated else self._index_before_the_import(now)
        if before is not None:
            vocab, in_memory = before
        else:
            vocab = vocabulary(self.db, now.generation)
            if not filters.dated:
                in_memory = search_memory.held(self.db, now.generation, now.entities)
        expanded = [vocab.expand(w) for w in words]
        run = in_memory.find if in_memory is not None else partial(find, self.db.fetch)
        found = run(
            expanded, visible=visible, caseload=sorted(access.caseload), text_props=props.text, filters=filters,
            limit=limit, offset=offset,
        )  # fmt: skip
        hits = self._shown_hits(principal, found, access, props)
        return SearchResults(query, found.total, tuple(hits), found.protected, found.facets)

    def _index_before_the_import(self, now: IndexState) -> tuple[Vocabulary, search_memory.Postings] | None:
        """While an import job is under way, the vocabulary and postings this process holds from
        before it, if any (ADR 0014): once the job had added the import's terms, each worker of a
        team server read the whole index and made its vocabulary again while the job still worked,
        and every request of the worker waited behind them (load test, issue #10). The job's
        import is searched once the job is done."""
        held = search_memory.current(self.db.store.url)
        if held is None or held.generation == now.generation or held.generation[4] != now.generation[4]:
            return None
        vocab = held_vocabulary(self.db.store.url, now.generation[4])
        if vocab is None or not import_landing(self.store):
            return None
        return vocab, held

    def _shown_hits(self, principal: Principal, found: Found, access: Access, props: Props) -> list[SearchHit]:
        """The hits as the principal may see them; each match shown with the value it matched, redacted."""
        ids = [h.entity_id for h in found.hits]
        protected, loaded = found.protected_people, self._load(ids)  # find() tells which hits are protected people
        names = {str(n): name for n, name in props.names.items()}
        hits = []
        for hit in found.hits:
            eid = hit.entity_id
            entity = self.entity(
                principal, eid, access=access, protected_person=eid in protected, loaded=loaded.get(eid)
            )
            if entity is None:
                continue
            shown = tuple(
                MatchShown(m.word, m.term, names.get(m.prop, m.prop), _matched_value(entity, names.get(m.prop, m.prop),
                           m.term), m.rule)
                for m in hit.matches
            )  # fmt: skip
            first = shown[0] if shown else MatchShown("", "", "", REDACTED, "")
            hits.append(SearchHit(eid, hit.schema, caption(entity), first.prop, first.value, tuple(entity.datasets),
                                  hit.score, shown))  # fmt: skip
        return hits

    # -- counts and exports -------------------------------------------------------------------
    def counts_by_schema(self, principal: Principal) -> dict[str, int]:
        counts: dict[str, int] = {}
        for dataset in self.visible_datasets(principal):
            for schema, n in self.store.counts_by_schema(dataset).items():
                counts[schema] = counts.get(schema, 0) + n
        return dict(sorted(counts.items()))

    def entities(self, principal: Principal, schema: str, *, limit: int = 100) -> list[Entity]:
        """Up to ``limit`` entities of a type from visible datasets, redacted (for lists, not exports)."""
        found: list[Entity] = []
        seen: set[str] = set()
        for name in self.visible_datasets(principal):
            if not self.store.counts_by_schema(name).get(schema):
                continue
            for entity in self.store.iter_entities(schema=schema, dataset=name):
                if entity.id in seen:
                    continue
                seen.add(entity.id)
                shown = self.entity(principal, entity.id)
                if shown is not None:
                    found.append(shown)
                if len(found) >= limit:
                    return found
        return found

    def export_entities(
        self, principal: Principal, schema: str, dataset: str | None = None, *, address: str | None = None
    ) -> Iterator[Entity]:
        """Entities of a type for export, redacted as on the pages; the export itself is audited."""
        visible = self.visible_datasets(principal)
        datasets = [d for d in visible if dataset is None or d == dataset]
        self.security.audit.record(
            principal.username,
            "export",
            target=schema,
            detail={"datasets": datasets},
            address=address,
        )
        seen: set[str] = set()
        for name in datasets:
            for entity in self.store.iter_entities(schema=schema, dataset=name):
                if entity.id in seen:
                    continue
                seen.add(entity.id)
                shown = self.entity(principal, entity.id, address=address)
                if shown is not None:
                    yield shown

    # -- tips ---------------------------------------------------------------------------------
    @staticmethod
    def may_triage(principal: Principal) -> bool:
        return principal.role in (Role.ADMIN, Role.ANALYST, Role.CASEWORKER)

    @staticmethod
    def may_read_tip_contact(principal: Principal) -> bool:
        return principal.role in (Role.ADMIN, Role.CASEWORKER)

    def tip_contact(self, principal: Principal, tip_id: str, *, address: str | None = None) -> str | None:
        """A tipster's contact, decrypted, for admins and caseworkers only; every reading is audited.

        Raises ``PermissionError`` for anyone else (the refusal is audited too).
        """
        if not self.may_read_tip_contact(principal):
            self.security.audit.record(
                principal.username, "view_tip_contact", target=tip_id, outcome="denied", address=address
            )
            raise PermissionError(tip_id)
        contact = self.security.tips.contact(tip_id)
        self.security.audit.record(principal.username, "view_tip_contact", target=tip_id, address=address)
        return contact


# -- the assistance path of victim cases ---------------------------------------------------------
def may_handle_case(principal: Principal, case: Case) -> bool:
    """Admins, and the caseworker the case is assigned to."""
    return principal.role == Role.ADMIN or (principal.role == Role.CASEWORKER and case.caseworker == principal.username)


def cases_for(guard: Guard, principal: Principal) -> list[Case]:
    """A caseworker's own cases; every case for an admin; nobody else sees the list."""
    if principal.role == Role.ADMIN:
        return guard.security.assistance.cases()
    if principal.role == Role.CASEWORKER:
        return guard.security.assistance.cases(principal.username)
    raise PermissionError("cases")


def case_for(
    guard: Guard, principal: Principal, case_id: str, *, address: str | None = None
) -> tuple[Case, list[Step]]:
    """A case and its path for who may handle it; every reading (and refusal) is audited.
    ``LookupError`` for an unknown case, ``PermissionError`` for anyone else."""
    case = guard.security.assistance.case(case_id)
    if not may_handle_case(principal, case):
        guard.security.audit.record(principal.username, "view_case", target=case_id, outcome="denied", address=address)
        raise PermissionError(case_id)
    guard.security.audit.record(principal.username, "view_case", target=case_id, address=address)
    return case, guard.security.assistance.path(case_id)


def _matched_value(entity: Entity, prop: str, term: str) -> str:
    """The smallest value of ``prop`` holding ``term``, as shown (the index keeps terms only).

    Never a value from the index: what is shown comes from the entity as the guard redacted it.
    """
    values = [st.value for st in entity.statements if st.prop == prop]
    found = [v for v in values if v != REDACTED and term in value_terms(v)] or [v for v in values if v != REDACTED]
    return min(found, key=lambda v: (fold(v), v)) if found else REDACTED


def _first_referrers(rows: Iterable[tuple[Any, ...]], limit: int) -> list[tuple[str, str, str]]:
    """(entity, type, property) of referrers, distinct, in the order pages list them, the first ``limit``."""
    distinct = {(str(r[0]), str(r[1]), str(r[2])) for r in rows}
    return sorted(distinct, key=lambda r: (r[1], r[2], r[0]))[:limit]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def caption(entity: Entity) -> str:
    """The label to show for an entity: its name, else another telling property, else its type."""
    for prop in ("name", "full_name", "serial_number", "number", "trace_number", "title", "alias"):
        value = entity.first(prop)
        if value:
            return value
    return entity.schema


def detail_json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True)
