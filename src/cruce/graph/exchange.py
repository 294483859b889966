"""The graph, or a part of it, out to the tools analysts already use.

A *selection* (the whole graph as the user may see it, an entity's neighbourhood, or one
community) is named once through the same ``Namer`` as the network questions
(``cruce.graph.present``): nodes the user may not see are left out, with their edges, and a
protected person's name is redacted for a role that may not read it. Every format is then written
from that one selection, so no format can disclose more than another.

GraphML and GEXF are written here with ``xml.etree`` rather than with NetworkX (a development
dependency only) or igraph (whose GraphML writer has no GEXF twin): both formats are small and
fixed, and the tests read what is written back with NetworkX's own readers. FollowTheMoney
entities are in ``cruce.graph.exchange_ftm``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from xml.etree import ElementTree as ET

import numpy as np

from cruce.graph import questions as q
from cruce.graph.graph import LinkGraph
from cruce.graph.model import FLOWS
from cruce.graph.present import Label, Namer
from cruce.i18n import _

FORMATS = ("graphml", "gexf", "cytoscape", "csv", "ftm", "i2")
MEDIA_TYPES = {
    "graphml": "application/graphml+xml", "gexf": "application/gexf+xml", "cytoscape": "application/json",
    "csv": "text/csv", "ftm": "application/x-ndjson", "i2": "text/csv",
}  # fmt: skip
EXTENSIONS = {"graphml": "graphml", "gexf": "gexf", "cytoscape": "cyjs", "csv": "csv", "ftm": "ftm.json", "i2": "csv"}
I2_COLUMNS = (
    "Entity 1 Id", "Entity 1 Type", "Entity 1 Label", "Link Type", "Link Label", "Link Date", "Link End Date",
    "Link Count", "Link Directed", "Link Flows", "Entity 2 Id", "Entity 2 Type", "Entity 2 Label",
)  # fmt: skip
"""The i2 Analyst's Notebook import columns, one row per link (docs/guide/graph.md#exchange)."""
EDGE_COLUMNS = ("id", "source", "target", "type", "count", "first", "last", "directed", "flows", "datasets")
NODE_COLUMNS = ("id", "label", "type", "flows", "datasets", "degree")


class ExchangeError(ValueError):
    """A selection or a file that cannot be exchanged; the message says why."""


@dataclass(frozen=True)
class Selection:
    """What goes out: the nodes that may be shown (with their labels) and the edges among them."""

    graph: LinkGraph
    nodes: list[int]
    edges: list[int]
    labels: dict[int, Label]
    undirected: frozenset[str]
    described: str  # "graph", "neighbourhood of <id> (2 hops)", "community 3 (leiden)"

    def edge_id(self, e: int) -> str:
        """A stable id for an edge: the same link gets the same id in every export."""
        g = self.graph
        key = f"{g.id_of(int(g.src[e]))}|{g.etypes[int(g.etype[e])]}|{g.id_of(int(g.dst[e]))}"
        return "l" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:20]


# -- choosing what goes out --------------------------------------------------------------------------------
def selection_nodes(
    g: LinkGraph,
    *,
    center: int | None = None,
    hops: int = 2,
    community: int | None = None,
    method: str = "leiden",
    resolution: float = 1.0,
    seed: int = 42,
    max_nodes: int | None = None,
) -> np.ndarray:
    """The node numbers of a selection: an entity's neighbourhood, a community, else the whole graph."""
    if center is not None and community is not None:
        raise ExchangeError(_("Choose an entity or a community, not both."))
    if center is not None:
        limit = max_nodes or max(g.n, 1)  # the command line exports a neighbourhood whole
        return np.sort(q.neighbourhood(g, center, hops=hops, filters=q.Filters(), max_nodes=limit).nodes)
    if community is not None:
        membership = q.partition(g, method, resolution, seed)
        found = np.flatnonzero(membership == community) if community >= 0 else np.array([], dtype=np.int64)
        if not len(found):
            raise q.NotInGraphError(_("No community {k} in the graph (or it is not visible).").format(k=community))
        return found
    return np.flatnonzero(~g.hidden)


def select(g: LinkGraph, nodes: np.ndarray, namer: Namer, undirected: frozenset[str], described: str) -> Selection:
    """Name the nodes through ``namer``; what it leaves out goes, with its edges."""
    labels = namer.labels(g, [int(i) for i in nodes])
    shown = np.zeros(g.n, dtype=bool)
    shown[list(labels)] = True
    edges = np.flatnonzero(shown[g.src] & shown[g.dst])
    return Selection(g, sorted(labels), [int(e) for e in edges], labels, undirected, described)


def _flows(bits: int) -> list[str]:
    return [f for k, f in enumerate(FLOWS) if bits >> k & 1]


def node_row(sel: Selection, i: int) -> dict[str, Any]:
    g = sel.graph
    return {
        "id": g.id_of(i), "label": sel.labels[i].caption, "type": g.schema_of(i), "flows": ";".join(g.flows_of(i)),
        "datasets": ";".join(sel.labels[i].datasets), "degree": int(g.degree[i]),
    }  # fmt: skip


def edge_row(sel: Selection, e: int) -> dict[str, Any]:
    g = sel.graph
    first, last = q.edge_span(g, e)
    kind = g.etypes[int(g.etype[e])]
    return {
        "id": sel.edge_id(e), "source": g.id_of(int(g.src[e])), "target": g.id_of(int(g.dst[e])), "type": kind,
        "count": int(g.count[e]), "first": first or "", "last": last or "", "directed": kind not in sel.undirected,
        "flows": ";".join(_flows(int(g.edge_flows[e]))), "datasets": ";".join(g.edge_datasets(e)),
    }  # fmt: skip


# -- GraphML and GEXF --------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def write_graphml(sel: Selection, out: TextIO) -> None:
    """GraphML (yEd, Gephi, Cytoscape, NetworkX, igraph): every attribute declared with its type."""
    ns = "http://graphml.graphdrawing.org/xmlns"
    root = ET.Element("graphml", {"xmlns": ns})
    nodes = [node_row(sel, i) for i in sel.nodes]
    edges = [edge_row(sel, e) for e in sel.edges]
    for domain, columns in (("node", NODE_COLUMNS[1:]), ("edge", EDGE_COLUMNS[3:])):
        for name in columns:
            kind = "int" if name in ("degree", "count") else "boolean" if name == "directed" else "string"
            ET.SubElement(root, "key", {"id": f"{domain[0]}_{name}", "for": domain, "attr.name": name,
                                        "attr.type": kind})  # fmt: skip
    graph = ET.SubElement(root, "graph", {"id": "cruce", "edgedefault": "directed"})
    for row in nodes:
        node = ET.SubElement(graph, "node", {"id": row["id"]})
        for name in NODE_COLUMNS[1:]:
            ET.SubElement(node, "data", {"key": f"n_{name}"}).text = _text(row[name])
    for row in edges:
        edge = ET.SubElement(graph, "edge", {"id": row["id"], "source": row["source"], "target": row["target"]})
        for name in EDGE_COLUMNS[3:]:
            ET.SubElement(edge, "data", {"key": f"e_{name}"}).text = _text(row[name])
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def write_gexf(sel: Selection, out: TextIO) -> None:
    """GEXF 1.3 (Gephi): a directed graph; the type of a link is its label and an attribute."""
    root = ET.Element("gexf", {"xmlns": "http://gexf.net/1.3", "version": "1.3"})
    meta = ET.SubElement(root, "meta", {"lastmodifieddate": datetime.now(UTC).date().isoformat()})
    ET.SubElement(meta, "creator").text = "cruce"
    ET.SubElement(meta, "description").text = sel.described
    graph = ET.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    node_attrs, edge_attrs = NODE_COLUMNS[2:], EDGE_COLUMNS[3:]
    for cls, names in (("node", node_attrs), ("edge", edge_attrs)):
        block = ET.SubElement(graph, "attributes", {"class": cls, "mode": "static"})
        for k, name in enumerate(names):
            kind = "integer" if name in ("degree", "count") else "boolean" if name == "directed" else "string"
            ET.SubElement(block, "attribute", {"id": str(k), "title": name, "type": kind})
    nodes = ET.SubElement(graph, "nodes")
    for i in sel.nodes:
        row = node_row(sel, i)
        node = ET.SubElement(nodes, "node", {"id": row["id"], "label": row["label"]})
        values = ET.SubElement(node, "attvalues")
        for k, name in enumerate(node_attrs):
            ET.SubElement(values, "attvalue", {"for": str(k), "value": _text(row[name])})
    edges = ET.SubElement(graph, "edges")
    for e in sel.edges:
        row = edge_row(sel, e)
        attrs = {"id": row["id"], "source": row["source"], "target": row["target"], "label": row["type"],
                 "weight": str(row["count"])}  # fmt: skip
        edge = ET.SubElement(edges, "edge", attrs)
        values = ET.SubElement(edge, "attvalues")
        for k, name in enumerate(edge_attrs):
            ET.SubElement(values, "attvalue", {"for": str(k), "value": _text(row[name])})
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


# -- Cytoscape, CSV, i2 ------------------------------------------------------------------------------------
def cytoscape(sel: Selection) -> dict[str, Any]:
    """Cytoscape.js elements (also read by Cytoscape desktop as ``.cyjs``)."""
    nodes = []
    for i in sel.nodes:
        row = node_row(sel, i)
        nodes.append({"data": {**row, "name": row["label"], "flows": row["flows"].split(";") if row["flows"] else [],
                               "datasets": list(sel.labels[i].datasets)}})  # fmt: skip
    edges = []
    for e in sel.edges:
        row = edge_row(sel, e)
        row["flows"] = row["flows"].split(";") if row["flows"] else []
        row["datasets"] = sel.graph.edge_datasets(e)
        edges.append({"data": {**row, "label": row["type"], "first": row["first"] or None,
                               "last": row["last"] or None}})  # fmt: skip
    return {"format_version": "1.0", "generated_by": "cruce", "data": {"name": sel.described},
            "elements": {"nodes": nodes, "edges": edges}}  # fmt: skip


def write_cytoscape(sel: Selection, out: TextIO) -> None:
    json.dump(cytoscape(sel), out, ensure_ascii=False)
    out.write("\n")


def write_edges_csv(sel: Selection, out: TextIO) -> None:
    """The edge list, one row per link, with each end's label and type beside its id."""
    writer = csv.writer(out)
    writer.writerow([*EDGE_COLUMNS, "source_label", "source_type", "target_label", "target_type"])
    index = {sel.graph.id_of(i): i for i in sel.nodes}
    for e in sel.edges:
        row = edge_row(sel, e)
        s, t = index[row["source"]], index[row["target"]]
        writer.writerow([*(_text(row[c]) for c in EDGE_COLUMNS), sel.labels[s].caption, sel.graph.schema_of(s),
                         sel.labels[t].caption, sel.graph.schema_of(t)])  # fmt: skip


def write_nodes_csv(sel: Selection, out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(NODE_COLUMNS)
    for i in sel.nodes:
        row = node_row(sel, i)
        writer.writerow([row[c] for c in NODE_COLUMNS])


def write_i2(sel: Selection, out: TextIO) -> None:
    """One row per link, both ends on the row, for an i2 Analyst's Notebook import specification."""
    g = sel.graph
    writer = csv.writer(out)
    writer.writerow(I2_COLUMNS)
    for e in sel.edges:
        row = edge_row(sel, e)
        s, t = int(g.src[e]), int(g.dst[e])
        label = row["type"] if row["count"] == 1 else f"{row['type']} ×{row['count']}"
        writer.writerow([
            row["source"], g.schema_of(s), sel.labels[s].caption, row["type"], label, row["first"], row["last"],
            row["count"], "yes" if row["directed"] else "no", row["flows"], row["target"], g.schema_of(t),
            sel.labels[t].caption,
        ])  # fmt: skip


def write(sel: Selection, fmt: str, out: TextIO, *, nodes: bool = False) -> None:
    """Write ``sel`` in ``fmt`` (``ftm`` is written by ``exchange_ftm``); ``nodes``: the CSV node list."""
    writers = {"graphml": write_graphml, "gexf": write_gexf, "cytoscape": write_cytoscape, "i2": write_i2,
               "csv": write_nodes_csv if nodes else write_edges_csv}  # fmt: skip
    if fmt not in writers:
        raise ExchangeError(_("Unknown format {format}; use one of: {formats}").format(
            format=fmt, formats=", ".join(FORMATS)))  # fmt: skip
    writers[fmt](sel, out)


@dataclass(frozen=True)
class Exported:
    """What an export wrote, for the user's summary and the audit log (ids and counts, never names)."""

    format: str
    selection: str
    nodes: int
    edges: int
    records: int  # rows, elements or entities written


def export(
    store: Any,
    g: LinkGraph,
    namer: Namer,
    fmt: str,
    out: TextIO,
    *,
    entity: str | None = None,
    hops: int = 2,
    community: int | None = None,
    method: str = "leiden",
    resolution: float = 1.0,
    seed: int = 42,
    max_nodes: int | None = None,
    nodes_csv: bool = False,
    include_protected: bool = False,
) -> Exported:
    """Choose the selection, name it through ``namer`` and write it in ``fmt`` to ``out``."""
    from cruce.graph import service
    from cruce.graph.model import graph_model

    if fmt not in FORMATS:
        raise ExchangeError(_("Unknown format {format}; use one of: {formats}").format(
            format=fmt, formats=", ".join(FORMATS)))  # fmt: skip
    center = service.node(store, g, entity) if entity else None
    nodes = selection_nodes(g, center=center, hops=hops, community=community, method=method, resolution=resolution,
                            seed=seed, max_nodes=max_nodes)  # fmt: skip
    if max_nodes is not None and len(nodes) > max_nodes:
        raise ExchangeError(_("The selection has {n} entities, more than {max} at once: choose an entity's "
                              "neighbourhood or a community.").format(n=len(nodes), max=max_nodes))  # fmt: skip
    described = (f"neighbourhood of {g.id_of(center)} ({hops} hops)" if center is not None
                 else f"community {community} ({method})" if community is not None else "graph")  # fmt: skip
    sel = select(g, nodes, namer, graph_model().undirected, described)
    if fmt == "ftm":
        from cruce.graph import exchange_ftm  # FollowTheMoney's model takes a second to load: only when needed

        records = exchange_ftm.write_ftm(sel, namer, out, include_protected)
    else:
        write(sel, fmt, out, nodes=nodes_csv)
        records = len(sel.nodes) if nodes_csv else len(sel.edges)
    return Exported(fmt, described, len(sel.nodes), len(sel.edges), records)
