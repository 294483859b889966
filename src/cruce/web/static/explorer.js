// The network explorer (/graph): Cytoscape.js over the page's own JSON routes (/graph/data/…).
// Every word shown comes from the page (#explorer-config, in the reader's language); no inline
// script (the Content-Security-Policy forbids it). Names come from the server through the guard.
(function () {
  "use strict";
  var configNode = document.getElementById("explorer-config");
  if (!configNode || typeof window.cytoscape !== "function") { return; }
  var config = JSON.parse(configNode.textContent);
  var L = config.labels;
  var COSE_MAX = 200;          // above this many nodes, a concentric layout (linear time) instead of cose
  var TEXTURE_FROM = 1500;     // above this many elements, draw a texture while panning and zooming
  var DAY = 86400000;
  var TYPE_COLOURS = ["#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d",
    "#386cb0", "#bf5b17", "#666666", "#17becf", "#8c564b"];
  var FLOW_COLOURS = { firearms: "#b2182b", drugs: "#6a3d9a", people: "#2166ac", several: "#e08214", none: "#9e9e9e" };
  var numberFormat = new Intl.NumberFormat(config.lang === "es" ? "es-MX" : "en-US");
  var dateFormat = new Intl.DateTimeFormat(config.lang === "es" ? "es-MX" : "en-US", { dateStyle: "medium", timeZone: "UTC" });

  var $ = function (id) { return document.getElementById(id); };
  var state = { center: config.entity || null, offTypes: {}, offRelations: {}, since: null, until: null,
    colour: "type", membership: null, chosen: [] };

  // -- words --------------------------------------------------------------------------------------
  function say(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, key) {
      if (!values || !(key in values)) { return whole; }
      var v = values[key];
      return typeof v === "number" ? numberFormat.format(v) : String(v);
    });
  }
  function typeLabel(schema) { return config.types[schema] || schema; }
  function relationLabel(type) { return config.relations[type] || type.replace(/_/g, " "); }
  function flowKey(flows) { return !flows || !flows.length ? "none" : flows.length > 1 ? "several" : flows[0]; }
  function flowList(flows) {
    return flows && flows.length ? flows.map(function (f) { return config.flowLabels[f] || f; }).join(", ") : L.noFlow;
  }
  function dayOf(iso) { return iso ? Math.floor(Date.parse(iso.slice(0, 10) + "T00:00:00Z") / DAY) : null; }
  function dayText(day) { return dateFormat.format(new Date(day * DAY)); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function status(text) { $("explorer-status").textContent = text; }

  // -- talking to the server ----------------------------------------------------------------------
  function request(url, body) {
    var options = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = config.csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.ok) { return response; }
      return response.text().then(function (text) {
        var detail = response.statusText || String(response.status);
        try { var parsed = JSON.parse(text); if (typeof parsed.detail === "string") { detail = parsed.detail; } } catch (e) { /* an HTML error page */ }
        throw new Error(detail);
      });
    });
  }
  function getJSON(url, body) { return request(url, body).then(function (r) { return r.json(); }); }
  function failed(error) { status(say(L.failed, { detail: error.message })); }
  function query(params) {
    return Object.keys(params).map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  // -- the chart ----------------------------------------------------------------------------------
  var typeColour = {};
  function colourOfType(schema) {
    if (!typeColour[schema]) { typeColour[schema] = TYPE_COLOURS[Object.keys(typeColour).length % TYPE_COLOURS.length]; }
    return typeColour[schema];
  }
  var cy = window.cytoscape({
    container: $("explorer-canvas"),
    minZoom: 0.02, maxZoom: 4, wheelSensitivity: 0.3, pixelRatio: 1,
    selectionType: "additive", boxSelectionEnabled: true,
    style: [
      { selector: "node", style: { "background-color": "data(tc)", label: "data(label)", "font-size": 9,
        "text-valign": "bottom", "text-margin-y": 2, color: "#1a1a1a", width: 16, height: 16,
        "min-zoomed-font-size": 7, "text-wrap": "ellipsis", "text-max-width": "110px" } },
      { selector: "node.start", style: { width: 26, height: 26, "border-width": 3, "border-color": "#10243e" } },
      { selector: "node.group", style: { shape: "round-rectangle", "background-color": "#f3f4f6", "border-width": 2,
        "border-color": "#4a4a4a", "border-style": "dashed", width: "label", height: 22, padding: 6,
        "text-valign": "center", "text-margin-y": 0, "font-size": 11, "text-max-width": "220px" } },
      { selector: "node.pinned", style: { "border-width": 4, "border-style": "double", "border-color": "#10243e" } },
      { selector: "node:selected", style: { "overlay-color": "#ffbf47", "overlay-opacity": 0.45, "overlay-padding": 5 } },
      { selector: "edge", style: { width: 1.2, "line-color": "#9aa0a6", "curve-style": "haystack", "haystack-radius": 0 } },
      { selector: "edge.group-link", style: { "line-style": "dashed" } },
      { selector: ".path", style: { "line-color": "#d4351c", "background-color": "#d4351c", width: 4, "z-index": 10 } },
      { selector: "node.path", style: { width: 24, height: 24 } },
      { selector: ".community", style: { "border-width": 3, "border-color": "#d4351c", "line-color": "#d4351c", width: 2.5 } },
      { selector: "node.community", style: { width: 20, height: 20 } },
      { selector: ".faded", style: { opacity: 0.12 } },
      { selector: ".off-type, .off-rel, .off-time, .hidden-by-user", style: { display: "none" } }
    ]
  });
  window.cruceExplorer = { cy: cy };

  function nodeData(n, extra) {
    var caption = n.caption || "";
    return Object.assign({ id: n.id, kind: "entity", caption: caption, label: caption.length > 40 ? caption.slice(0, 39) + "…" : caption,
      schema: n.schema, flows: n.flows || [], degree: n.degree, distance: n.distance,
      tc: colourOfType(n.schema), fc: FLOW_COLOURS[flowKey(n.flows)] }, extra || {});
  }
  function edgeId(e) { return e.source + "|" + e.type + "|" + e.target; }
  function edgeData(e) {
    return { id: edgeId(e), source: e.source, target: e.target, type: e.type, count: e.count, first: e.first, last: e.last,
      fd: dayOf(e.first), ld: dayOf(e.last), flows: e.flows || [], evidence: e.evidence || null };
  }

  // Place new nodes on a sunflower spiral around a point: linear time, no overlaps, no layout run.
  function spiral(count, around) {
    var golden = Math.PI * (3 - Math.sqrt(5));
    var out = [];
    for (var i = 0; i < count; i++) {
      var r = 40 + 14 * Math.sqrt(i + 1);
      out.push({ x: around.x + r * Math.cos(i * golden), y: around.y + r * Math.sin(i * golden) });
    }
    return out;
  }

  // Add nodes and edges not yet on the chart; returns the nodes added.
  function merge(answer, around, extra) {
    var fresh = answer.nodes.filter(function (n) { return cy.getElementById(n.id).empty(); });
    var places = around ? spiral(fresh.length, around) : [];
    var added;
    cy.batch(function () {
      added = cy.add(fresh.map(function (n, i) {
        return { group: "nodes", data: nodeData(n, extra), position: around ? places[i] : { x: 0, y: 0 } };
      }));
      var edges = answer.edges.filter(function (e) {
        return cy.getElementById(edgeId(e)).empty() && !cy.getElementById(e.source).empty() && !cy.getElementById(e.target).empty();
      });
      cy.add(edges.map(function (e) { return { group: "edges", data: edgeData(e) }; }));
    });
    return added;
  }

  // One summary node per type that a neighbourhood left out, joined to where it came from.
  function summarise(leftOut, origin, hops) {
    Object.keys(leftOut || {}).forEach(function (schema) {
      var id = "group:" + origin + ":" + schema;
      var existing = cy.getElementById(id);
      var count = leftOut[schema];
      var label = say(L.group, { n: count, type: typeLabel(schema) });
      if (!existing.empty()) {
        if (count > 0) { existing.data({ count: count, label: label }); } else { existing.remove(); }
        return;
      }
      if (count <= 0) { return; }
      var at = cy.getElementById(origin).position() || { x: 0, y: 0 };
      cy.add([
        { group: "nodes", classes: "group", data: { id: id, kind: "group", schema: schema, origin: origin, hops: hops,
          count: count, label: label, caption: label, tc: "#f3f4f6", fc: "#f3f4f6" }, position: { x: at.x + 60, y: at.y - 60 } },
        { group: "edges", classes: "group-link", data: { id: id + "|link", source: origin, target: id, type: "group" } }
      ]);
    });
  }

  function runLayout(done, fresh) {
    var count = cy.nodes().length;
    var started = performance.now();
    var options = count <= COSE_MAX
      ? { name: "cose", animate: false, randomize: !!fresh, numIter: 500, nodeRepulsion: function () { return 6000; },
          idealEdgeLength: function () { return 50; }, fit: true, padding: 20 }
      : { name: "concentric", animate: false, fit: true, padding: 20, avoidOverlap: false, minNodeSpacing: 6,
          concentric: function (n) { return n.hasClass("start") ? 1000 : 100 - (n.data("distance") || 0); },
          levelWidth: function () { return 1; } };
    var layout = cy.layout(options);
    layout.one("layoutstop", function () {
      var ms = Math.round(performance.now() - started);
      $("explorer-canvas").setAttribute("data-layout-ms", String(ms));
      if (done) { done(ms); }
    });
    layout.run();
  }

  function tune() {
    var big = cy.elements().length > TEXTURE_FROM;
    cy.renderer().textureOnViewport = big; // a picture while moving: thousands of elements stay smooth
    cy.renderer().hideEdgesOnViewport = big;
  }

  function showStatus(extra) {
    var nodes = cy.nodes('[kind = "entity"]');
    var hidden = nodes.filter(".hidden-by-user, .off-type, .off-time").length;
    var text = say(L.status, { nodes: nodes.length, edges: cy.edges().not(".group-link").length });
    if (hidden) { text += " · " + say(L.statusHidden, { n: hidden }); }
    if (extra) { text += " · " + extra; }
    status(text);
    $("explorer-canvas").setAttribute("data-nodes", String(nodes.length));
    $("explorer-canvas").setAttribute("data-edges", String(cy.edges().length));
  }

  function remember() {
    // the address and the language switch keep the start and the hops (switching language reloads the page)
    if (!state.center) { return; }
    var params = { entity: state.center, hops: hops() };
    if (config.maxNodes !== config.defaultMaxNodes) { params.max_nodes = config.maxNodes; }
    var url = "/graph?" + query(params);
    window.history.replaceState(null, "", url);
    document.querySelectorAll(".lang-switch input[name=next]").forEach(function (input) { input.value = url; });
  }

  function hops() { return parseInt($("explorer-hops").value, 10) || 1; }

  // -- loading ------------------------------------------------------------------------------------
  function start(entityId) {
    state.center = entityId;
    state.membership = null;
    status(L.loading);
    $("explorer-canvas").setAttribute("data-ready", "0");
    var n = hops();
    return getJSON("/graph/data/neighbourhood/" + encodeURIComponent(entityId) + "?" + query({ hops: n, max_nodes: config.maxNodes }))
      .then(function (answer) {
        cy.elements().remove();
        state.center = answer.center;
        merge(answer, null);
        cy.getElementById(answer.center).addClass("start");
        summarise(answer.left_out, answer.center, n);
        refreshFilters();
        tune();
        remember();
        runLayout(function (ms) {
          showStatus(say(L.laidOut, { ms: ms }));
          $("explorer-canvas").setAttribute("data-ready", "1");
        }, true);
      })
      .catch(failed);
  }

  function expand(node) {
    if (!node || node.empty()) { status(L.selectOne); return Promise.resolve(); }
    var around = node.position();
    $("explorer-canvas").setAttribute("data-ready", "0");
    status(L.loading);
    var url;
    if (node.data("kind") === "group") {
      url = "/graph/data/group/" + encodeURIComponent(node.data("origin")) + "?" +
        query({ schema: node.data("schema"), hops: node.data("hops"), max_nodes: config.maxNodes });
    } else {
      url = "/graph/data/neighbourhood/" + encodeURIComponent(node.id()) + "?" + query({ hops: hops(), max_nodes: config.maxNodes });
    }
    return getJSON(url).then(function (answer) {
      var origin = node.data("kind") === "group" ? node.data("origin") : node.id();
      var groupHops = node.data("kind") === "group" ? node.data("hops") : hops();
      var added = merge(answer, around);
      if (node.data("kind") === "group") {
        var leftOut = {}; leftOut[node.data("schema")] = (answer.left_out || {})[node.data("schema")] || 0;
        summarise(leftOut, origin, groupHops);
      } else {
        summarise(answer.left_out, origin, groupHops);
      }
      refreshFilters();
      tune();
      var finish = function (ms) {
        showStatus(ms === undefined ? null : say(L.laidOut, { ms: ms }));
        $("explorer-canvas").setAttribute("data-ready", "1");
      };
      if (cy.nodes().length <= COSE_MAX && added.length) { runLayout(finish); } else { finish(); }
    }).catch(failed);
  }

  // -- filters ------------------------------------------------------------------------------------
  function checkList(listId, counts, off, label, onChange) {
    var list = $(listId);
    list.textContent = "";
    Object.keys(counts).sort(function (a, b) { return label(a).localeCompare(label(b)); }).forEach(function (key) {
      var id = listId + "-" + key;
      var box = el("input", { type: "checkbox", id: id, value: key });
      box.checked = !off[key];
      box.addEventListener("change", function () { if (box.checked) { delete off[key]; } else { off[key] = true; } onChange(); });
      var item = el("li");
      var text = el("label", { for: id });
      text.appendChild(box);
      text.appendChild(document.createTextNode(" " + label(key) + " (" + numberFormat.format(counts[key]) + ")"));
      item.appendChild(text);
      list.appendChild(item);
    });
  }

  function refreshFilters() {
    var types = {}, relations = {}, lo = null, hi = null;
    cy.nodes('[kind = "entity"]').forEach(function (n) { types[n.data("schema")] = (types[n.data("schema")] || 0) + 1; });
    cy.edges().not(".group-link").forEach(function (e) {
      relations[e.data("type")] = (relations[e.data("type")] || 0) + 1;
      if (e.data("fd") !== null && e.data("fd") !== undefined) { lo = lo === null ? e.data("fd") : Math.min(lo, e.data("fd")); }
      if (e.data("ld") !== null && e.data("ld") !== undefined) { hi = hi === null ? e.data("ld") : Math.max(hi, e.data("ld")); }
    });
    checkList("explorer-types", types, state.offTypes, typeLabel, applyFilters);
    checkList("explorer-relations", relations, state.offRelations, relationLabel, applyFilters);
    var since = $("explorer-since"), until = $("explorer-until");
    var wasFull = state.since === null && state.until === null;
    since.disabled = until.disabled = lo === null;
    if (lo !== null) {
      since.min = until.min = String(lo); since.max = until.max = String(hi);
      since.value = String(wasFull ? lo : Math.max(lo, state.since === null ? lo : state.since));
      until.value = String(wasFull ? hi : Math.min(hi, state.until === null ? hi : state.until));
    }
    showDates(lo === null);
    applyFilters();
    legend();
  }

  function showDates(none) {
    $("explorer-since-out").textContent = none ? L.noDates : dayText(parseInt($("explorer-since").value, 10));
    $("explorer-until-out").textContent = none ? "" : dayText(parseInt($("explorer-until").value, 10));
  }

  function onTimeChange() {
    var since = $("explorer-since"), until = $("explorer-until");
    if (parseInt(since.value, 10) > parseInt(until.value, 10)) {
      if (this === since) { until.value = since.value; } else { since.value = until.value; }
    }
    var full = since.value === since.min && until.value === until.max;
    state.since = full ? null : parseInt(since.value, 10);
    state.until = full ? null : parseInt(until.value, 10);
    showDates(false);
    applyFilters();
  }

  function applyFilters() {
    cy.batch(function () {
      cy.nodes().forEach(function (n) { n.toggleClass("off-type", !!state.offTypes[n.data("schema")]); });
      cy.edges().forEach(function (e) {
        if (e.hasClass("group-link")) { return; }
        e.toggleClass("off-rel", !!state.offRelations[e.data("type")]);
        var outside = (state.since !== null && e.data("ld") !== null && e.data("ld") < state.since) ||
          (state.until !== null && e.data("fd") !== null && e.data("fd") > state.until);
        e.toggleClass("off-time", !!outside);
      });
      // an entity whose every link falls outside the time window leaves the chart with them
      cy.nodes('[kind = "entity"]').forEach(function (n) {
        var links = n.connectedEdges().not(".group-link");
        var gone = (state.since !== null || state.until !== null) && !n.hasClass("start") && links.length > 0 &&
          links.filter(".off-time").length === links.length;
        n.toggleClass("off-time", gone);
      });
    });
    showStatus();
  }

  // -- selection and the side panel ---------------------------------------------------------------
  function selectedEntities() {
    return cy.nodes(":selected");
  }
  function single() {
    var chosen = selectedEntities();
    return chosen.length === 1 ? chosen : null;
  }

  function showDetails(node) {
    var panel = $("explorer-panel");
    panel.textContent = "";
    if (node.data("kind") === "group") {
      panel.appendChild(el("h2", {}, node.data("label")));
      panel.appendChild(el("p", { class: "hint" }, L.groupHint));
      return;
    }
    panel.appendChild(el("p", { class: "kicker" }, typeLabel(node.data("schema"))));
    panel.appendChild(el("h2", { id: "explorer-selected" }, node.data("caption")));
    var facts = el("ul");
    if (node.data("distance") !== undefined && node.data("distance") !== null) {
      facts.appendChild(el("li", {}, say(L.distance, { n: node.data("distance") })));
    }
    facts.appendChild(el("li", {}, say(L.degree, { n: node.data("degree") || 0 })));
    facts.appendChild(el("li", {}, say(L.flowsOf, { flows: flowList(node.data("flows")) })));
    if (node.hasClass("pinned")) { facts.appendChild(el("li", {}, L.pinned)); }
    panel.appendChild(facts);
  }

  function onSelectionChange() {
    var node = single();
    var open = $("explorer-open");
    if (node && node.data("kind") === "entity") {
      open.href = "/entity/" + encodeURIComponent(node.id());
      open.setAttribute("aria-disabled", "false");
    } else {
      open.href = "#";
      open.setAttribute("aria-disabled", "true");
    }
    if (node) { showDetails(node); }
  }

  cy.on("select", "node", function (event) {
    state.chosen = state.chosen.filter(function (id) { return id !== event.target.id(); }).concat([event.target.id()]);
    onSelectionChange();
  });
  cy.on("unselect", "node", function (event) {
    state.chosen = state.chosen.filter(function (id) { return id !== event.target.id(); });
    onSelectionChange();
  });
  cy.on("dbltap", "node", function (event) { expand(event.target); });

  function clearHighlight() { cy.elements().removeClass("faded path community"); }

  // -- paths --------------------------------------------------------------------------------------
  function findPath() {
    var ids = state.chosen.filter(function (id) { return cy.getElementById(id).data("kind") === "entity"; }).slice(-2);
    if (ids.length !== 2) { status(L.selectTwo); return Promise.resolve(); }
    status(L.loading);
    return getJSON("/graph/data/paths?" + query({ from: ids[0], to: ids[1] })).then(function (found) {
      clearHighlight();
      var panel = $("explorer-panel");
      panel.textContent = "";
      if (!found.length) { panel.appendChild(el("p", { id: "explorer-no-path" }, L.noPath)); showStatus(); return; }
      var path = found[0];
      var around = cy.getElementById(ids[0]).position();
      merge({ nodes: path.nodes, edges: path.edges }, around);
      cy.batch(function () {
        cy.elements().addClass("faded");
        path.nodes.forEach(function (n) { cy.getElementById(n.id).removeClass("faded").addClass("path"); });
        path.edges.forEach(function (e) { cy.getElementById(edgeId(e)).removeClass("faded").addClass("path"); });
      });
      showPath(panel, path);
      refreshFilters();
    }).catch(failed);
  }

  function showPath(panel, path) {
    var names = {};
    path.nodes.forEach(function (n) { names[n.id] = n.caption; });
    var first = path.nodes[0], last = path.nodes[path.nodes.length - 1];
    panel.appendChild(el("h2", { id: "explorer-path-title" }, say(L.pathTitle, { a: first.caption, b: last.caption, n: path.length })));
    var steps = el("ol", { id: "explorer-path-steps" });
    path.edges.forEach(function (e) {
      var item = el("li");
      item.appendChild(el("strong", {}, names[e.source] + " — " + relationLabel(e.type) + " — " + names[e.target]));
      var when = e.first ? say(L.span, { first: dayText(dayOf(e.first)), last: dayText(dayOf(e.last || e.first)) }) : L.undated;
      item.appendChild(el("span", { class: "meta" }, " (" + when + ", " + say(L.count, { n: e.count }) + ")"));
      var records = el("ul", { class: "explorer-evidence", "aria-label": L.records });
      (e.evidence || []).forEach(function (ev) {
        var li = el("li");
        li.appendChild(el("a", { href: "/entity/" + encodeURIComponent(ev.id), target: "_blank", rel: "noopener" }, ev.caption));
        li.appendChild(document.createTextNode(" · " + typeLabel(ev.schema) + " · " + ev.dataset + " · " + ev.file +
          (ev.row !== null && ev.row !== undefined ? ", " + say(L.row, { row: ev.row }) : "")));
        records.appendChild(li);
      });
      item.appendChild(records);
      steps.appendChild(item);
    });
    panel.appendChild(steps);
    panel.appendChild(showAllButton());
  }

  function showAllButton() {
    var button = el("button", { type: "button", id: "explorer-show-all" }, L.showAll);
    button.addEventListener("click", function () { clearHighlight(); });
    return button;
  }

  // -- communities --------------------------------------------------------------------------------
  function entityIds() { return cy.nodes('[kind = "entity"]').map(function (n) { return n.id(); }); }

  function findCommunities() {
    if (!cy.nodes('[kind = "entity"]').length) { status(L.empty); return Promise.resolve(); }
    status(L.loading);
    return getJSON("/graph/data/communities", { ids: entityIds() }).then(function (answer) {
      state.membership = answer.membership;
      var onChart = {};
      Object.keys(answer.membership).forEach(function (id) {
        var c = answer.membership[id];
        onChart[c] = (onChart[c] || 0) + 1;
      });
      var panel = $("explorer-panel");
      panel.textContent = "";
      panel.appendChild(el("h2", {}, L.communitiesTitle));
      var list = el("ul", { id: "explorer-community-list" });
      Object.keys(onChart).sort(function (a, b) { return onChart[b] - onChart[a]; }).forEach(function (c) {
        var item = el("li");
        var button = el("button", { type: "button", class: "link", "data-community": c },
          say(L.community, { id: parseInt(c, 10), size: answer.sizes[c], n: onChart[c] }));
        button.addEventListener("click", function () { highlightCommunity(parseInt(c, 10)); });
        item.appendChild(button);
        list.appendChild(item);
      });
      panel.appendChild(list);
      panel.appendChild(showAllButton());
      showStatus();
    }).catch(failed);
  }

  function highlightCommunity(c) {
    clearHighlight();
    cy.batch(function () {
      cy.elements().addClass("faded");
      var members = cy.nodes().filter(function (n) { return state.membership && state.membership[n.id()] === c; });
      members.removeClass("faded").addClass("community");
      members.edgesWith(members).removeClass("faded").addClass("community");
    });
  }

  // -- pin, hide, colour --------------------------------------------------------------------------
  function pin() {
    var chosen = selectedEntities();
    if (!chosen.length) { status(L.selectOne); return; }
    chosen.forEach(function (n) {
      if (n.hasClass("pinned")) { n.removeClass("pinned"); n.unlock(); } else { n.addClass("pinned"); n.lock(); }
    });
    onSelectionChange();
  }

  function hide() {
    var chosen = selectedEntities();
    if (!chosen.length) { status(L.selectOne); return; }
    chosen.unselect().addClass("hidden-by-user");
    showStatus();
  }

  function unhide() { cy.nodes(".hidden-by-user").removeClass("hidden-by-user"); showStatus(); }

  function recolour() {
    state.colour = $("explorer-colour").value;
    cy.style().selector('node[kind = "entity"]').style("background-color", state.colour === "flow" ? "data(fc)" : "data(tc)").update();
    legend();
  }

  function legend() {
    var list = $("explorer-legend");
    list.textContent = "";
    var entries = state.colour === "flow"
      ? ["firearms", "drugs", "people", "several", "none"].map(function (k) { return [FLOW_COLOURS[k], config.flowLabels[k]]; })
      : Object.keys(typeColour).map(function (k) { return [typeColour[k], typeLabel(k)]; });
    entries.forEach(function (entry) {
      var item = el("li");
      var swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = entry[0];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(entry[1]));
      list.appendChild(item);
    });
  }

  // -- exports ------------------------------------------------------------------------------------
  function download(blob, name) {
    var link = el("a", { download: name });
    link.href = URL.createObjectURL(blob);
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    status(say(L.exported, { file: name }));
  }

  function exportPng() {
    if (!cy.nodes().length) { status(L.empty); return; }
    var box = cy.elements(":visible").boundingBox();
    var scale = Math.min(2, 4000 / Math.max(box.w || 1, box.h || 1, 1));
    download(cy.png({ output: "blob", full: true, bg: "#ffffff", scale: Math.max(scale, 0.25) }), "cruce-network.png");
  }

  function escapeXml(text) {
    return String(text).replace(/[<>&"']/g, function (c) { return { "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" }[c]; });
  }

  // An SVG drawing of what is visible, written here (the npm SVG plugin for Cytoscape is GPL-3.0).
  function exportSvg() {
    if (!cy.nodes().length) { status(L.empty); return; }
    var visible = cy.elements(":visible");
    var box = visible.boundingBox();
    var parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="' + [box.x1 - 10, box.y1 - 10, box.w + 20, box.h + 20].join(" ") +
      '" width="' + Math.round(box.w + 20) + '" height="' + Math.round(box.h + 20) + '" font-family="DejaVu Sans, sans-serif">',
    '<rect x="' + (box.x1 - 10) + '" y="' + (box.y1 - 10) + '" width="' + (box.w + 20) + '" height="' + (box.h + 20) + '" fill="#ffffff"/>'];
    visible.edges().forEach(function (e) {
      var a = e.source().position(), b = e.target().position();
      parts.push('<line x1="' + a.x + '" y1="' + a.y + '" x2="' + b.x + '" y2="' + b.y + '" stroke="' + e.style("line-color") +
        '" stroke-width="' + parseFloat(e.style("width")) + '" opacity="' + e.style("opacity") + '"/>');
    });
    visible.nodes().forEach(function (n) {
      var p = n.position(), r = n.width() / 2;
      parts.push('<circle cx="' + p.x + '" cy="' + p.y + '" r="' + r + '" fill="' + n.style("background-color") + '" stroke="#10243e" stroke-width="' +
        (n.hasClass("pinned") || n.hasClass("start") ? 3 : 0) + '" opacity="' + n.style("opacity") + '"/>');
      parts.push('<text x="' + p.x + '" y="' + (p.y + r + 10) + '" font-size="9" text-anchor="middle" fill="#1a1a1a">' + escapeXml(n.data("label") || "") + "</text>");
    });
    parts.push("</svg>");
    download(new Blob([parts.join("\n")], { type: "image/svg+xml" }), "cruce-network.svg");
  }

  function exportFile(format, name) {
    var ids = entityIds();
    if (!ids.length) { status(L.empty); return Promise.resolve(); }
    return request("/graph/data/export", { ids: ids, format: format })
      .then(function (r) { return r.blob(); })
      .then(function (blob) { download(blob, name); })
      .catch(failed);
  }

  // -- saved charts -------------------------------------------------------------------------------
  function chartState() {
    return {
      center: state.center,
      nodes: cy.nodes('[kind = "entity"]').map(function (n) {
        var p = n.position();
        return { id: n.id(), x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10, pinned: n.hasClass("pinned"), hidden: n.hasClass("hidden-by-user") };
      }),
      filters: {
        hidden_types: Object.keys(state.offTypes), hidden_relations: Object.keys(state.offRelations),
        since: state.since === null ? null : new Date(state.since * DAY).toISOString().slice(0, 10),
        until: state.until === null ? null : new Date(state.until * DAY).toISOString().slice(0, 10),
        hops: hops(), colour: state.colour
      }
    };
  }

  window.cruceExplorer.chartState = chartState;
  function chartItem(summary) {
    var item = el("li");
    var button = el("button", { type: "button", class: "link", "data-chart": summary.id }, L.open);
    item.appendChild(button);
    item.appendChild(document.createTextNode(" " + summary.name + " "));
    item.appendChild(el("span", { class: "meta" }, "(" + say(L.chartEntities, { n: summary.nodes }) + ")"));
    return item;
  }

  function saveChart(event) {
    event.preventDefault();
    var name = $("explorer-name").value.trim();
    if (!name) { status(L.nameFirst); return; }
    if (!cy.nodes('[kind = "entity"]').length) { status(L.empty); return; }
    getJSON("/graph/data/charts", { name: name, chart: chartState() }).then(function (saved) {
      $("explorer-charts").insertBefore(chartItem(saved), $("explorer-charts").firstChild);
      status(say(L.saved, { name: saved.name }));
    }).catch(failed);
  }

  function openChart(id) {
    status(L.loading);
    return getJSON("/graph/data/charts/" + encodeURIComponent(id)).then(function (saved) {
      var chart = saved.chart;
      return getJSON("/graph/data/among", { ids: chart.nodes.map(function (n) { return n.id; }) }).then(function (answer) {
        cy.elements().remove();
        var places = {};
        chart.nodes.forEach(function (n) { places[n.id] = n; });
        cy.batch(function () {
          cy.add(answer.nodes.map(function (n) {
            var p = places[n.id];
            return { group: "nodes", data: nodeData(n), position: { x: p.x, y: p.y }, classes: (p.pinned ? "pinned" : "") + (p.hidden ? " hidden-by-user" : "") };
          }));
          cy.add(answer.edges.map(function (e) { return { group: "edges", data: edgeData(e) }; }));
          cy.nodes(".pinned").lock();
        });
        state.center = chart.center;
        if (chart.center) { cy.getElementById(chart.center).addClass("start"); }
        state.offTypes = {}; state.offRelations = {};
        (chart.filters.hidden_types || []).forEach(function (t) { state.offTypes[t] = true; });
        (chart.filters.hidden_relations || []).forEach(function (t) { state.offRelations[t] = true; });
        state.since = dayOf(chart.filters.since); state.until = dayOf(chart.filters.until);
        $("explorer-hops").value = String(chart.filters.hops || 1);
        $("explorer-colour").value = chart.filters.colour || "type";
        recolour();
        refreshFilters();
        tune();
        cy.fit(undefined, 20);
        remember();
        showStatus(say(L.opened, { name: saved.name, n: answer.nodes.length }));
      });
    }).catch(failed);
  }

  // -- finding where to start ---------------------------------------------------------------------
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  function find(event) {
    event.preventDefault();
    var q = $("explorer-q").value.trim();
    var results = $("explorer-results");
    results.textContent = "";
    if (!q) { return; }
    if (UUID.test(q)) { start(q); return; }
    getJSON("/graph/data/search?" + query({ q: q })).then(function (hits) {
      if (!hits.length) { results.appendChild(el("li", {}, L.noResults)); return; }
      hits.forEach(function (hit) {
        var item = el("li");
        var button = el("button", { type: "button", class: "link", "data-entity": hit.id }, L.start);
        button.addEventListener("click", function () { results.textContent = ""; start(hit.id); });
        item.appendChild(button);
        item.appendChild(document.createTextNode(" " + hit.caption + " "));
        item.appendChild(el("span", { class: "meta" }, "(" + hit.type + ")"));
        results.appendChild(item);
      });
    }).catch(failed);
  }

  // -- wiring -------------------------------------------------------------------------------------
  $("explorer-find").addEventListener("submit", find);
  $("explorer-reload").addEventListener("click", function () { if (state.center) { start(state.center); } else { status(L.empty); } });
  $("explorer-expand").addEventListener("click", function () { expand(single()); });
  $("explorer-path").addEventListener("click", findPath);
  $("explorer-communities").addEventListener("click", findCommunities);
  $("explorer-pin").addEventListener("click", pin);
  $("explorer-hide").addEventListener("click", hide);
  $("explorer-unhide").addEventListener("click", unhide);
  $("explorer-colour").addEventListener("change", recolour);
  $("explorer-since").addEventListener("input", onTimeChange);
  $("explorer-until").addEventListener("input", onTimeChange);
  $("explorer-png").addEventListener("click", exportPng);
  $("explorer-svg").addEventListener("click", exportSvg);
  $("explorer-graphml").addEventListener("click", function () { exportFile("graphml", "cruce-chart.graphml"); });
  $("explorer-i2").addEventListener("click", function () { exportFile("i2", "cruce-chart-i2.csv"); });
  $("explorer-save-form").addEventListener("submit", saveChart);
  $("explorer-charts").addEventListener("click", function (event) {
    var id = event.target && event.target.getAttribute && event.target.getAttribute("data-chart");
    if (id) { openChart(id); }
  });
  $("explorer-open").addEventListener("click", function (event) {
    if (this.getAttribute("aria-disabled") === "true") { event.preventDefault(); status(L.selectOne); }
  });

  if (state.center) { start(state.center); } else { status(L.empty); }
  legend();
})();
