// An organization's page: its territory on the map on the day the slider chooses (plazas held
// filled, disputed open), and its network (Cytoscape, served by cruce itself). Data: #org-data.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("org-data").textContent);
  var L = config.labels;
  var C = window.cruceCharts;
  var DAY = 86400000;

  function toDay(text) { return Date.parse(text.slice(0, 10) + "T00:00:00Z"); }
  function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }

  // a claim covers a day when it started on or before it and had not ended (a partial date
  // "2019" or "2019-05" is taken at its first day for a start and its last for an end)
  function covers(claim, day) {
    var start = claim.start ? toDay((claim.start + "-01-01").slice(0, 10)) : -Infinity;
    var endText = claim.end ? (claim.end.length === 4 ? claim.end + "-12-31" : claim.end.length === 7 ? claim.end + "-28" : claim.end) : null;
    var end = endText ? toDay(endText) : Infinity;
    return start <= day && day <= end;
  }

  function territory(maps) {
    var slider = document.getElementById("territory-day");
    var out = document.getElementById("territory-date");
    var count = document.getElementById("territory-count");
    if (!config.first) { slider.disabled = true; return; }
    var first = toDay((config.first + "-01-01").slice(0, 10));
    var last = toDay(((config.latest && config.latest > config.last ? config.latest : config.last) + "-12-31").slice(0, 10));
    slider.max = String(Math.round((last - first) / DAY));
    slider.value = slider.max;
    var option = {
      tooltip: { trigger: "item", formatter: function (p) { var c = (p.data || {}).claim; return c ? c.plaza + " (" + (c.disputed ? L.disputed : L.held) + ")<br>" + (c.start || "…") + " – " + (c.end || "…") : p.name; } },
      series: []
    };
    if (maps) { option.geo = { map: "cruce-both", roam: true, center: [-105, 28.5], zoom: 3, itemStyle: { areaColor: "#f4f1ec", borderColor: "#999" } }; }
    var chart = C.draw("chart-territory", option);
    function show() {
      var day = first + Number(slider.value) * DAY;
      out.value = isoDay(day);
      var now = config.claims.filter(function (c) { return covers(c, day); });
      var drawn = now.filter(function (c) { return c.point; });
      var point = function (c) { return { value: c.point.concat([1]), name: c.plaza, claim: c }; };
      chart.setOption({ series: [
        { type: "scatter", coordinateSystem: maps ? "geo" : undefined, name: L.held, symbolSize: 16, itemStyle: { color: "#8c2d04" },
          label: { show: true, position: "right", formatter: "{b}", fontSize: 10 },
          data: drawn.filter(function (c) { return !c.disputed; }).map(point) },
        { type: "scatter", coordinateSystem: maps ? "geo" : undefined, name: L.disputed, symbolSize: 16, symbol: "emptyCircle",
          itemStyle: { color: "#cb181d", borderWidth: 3 }, data: drawn.filter(function (c) { return c.disputed; }).map(point) }
      ] });
      var held = now.filter(function (c) { return !c.disputed; }).length;
      count.textContent = L.plazas.replace("{held}", held).replace("{disputed}", now.length - held)
        + (now.length > drawn.length ? " · " + (now.length - drawn.length) + " " + L.notDrawn : "");
      document.getElementById("chart-territory").setAttribute("data-day", out.value);
      document.getElementById("chart-territory").setAttribute("data-held", String(held));
    }
    slider.addEventListener("input", show);
    show();
  }

  var COLORS = { self: "#252525", ally: "#238b45", rival: "#cb181d", faction: "#6a51a3", parent: "#6a51a3", plaza: "#8c2d04", leader: "#2171b5" };

  function network() {
    var el = document.getElementById("org-network");
    if (!el || !window.cytoscape) { return; }
    var nodes = config.network.nodes.map(function (n) {
      return { data: { id: n.id, label: (n.name || n.id) + (n.role !== "self" ? "\n(" + (L[n.role] || n.role) + ")" : ""), color: COLORS[n.role] || "#636363" } };
    });
    var seen = {};
    var edges = config.network.edges.filter(function (e) {
      var key = e.source + ">" + e.target + ":" + e.kind;
      if (seen[key]) { return false; }
      seen[key] = true;
      return true;
    }).map(function (e, i) {
      return { data: { id: "e" + i, source: e.source, target: e.target, label: (e.start || "…") + " – " + (e.end || "…") } };
    });
    window.cytoscape({
      container: el,
      elements: nodes.concat(edges),
      layout: { name: "concentric", concentric: function (n) { return n.id() === config.network.nodes[0].id ? 2 : 1; },
        levelWidth: function () { return 1; }, minNodeSpacing: 40 },
      style: [
        { selector: "node", style: { "background-color": "data(color)", label: "data(label)", "font-size": 9, "text-wrap": "wrap", "text-valign": "bottom", width: 18, height: 18 } },
        { selector: "edge", style: { width: 1.5, "line-color": "#bbb", "curve-style": "bezier" } },
        { selector: "edge:selected, node:selected ~ edge", style: { label: "data(label)", "font-size": 8, color: "#333", "line-color": "#666" } }
      ]
    });
    el.setAttribute("data-drawn", "1");
  }

  C.ready(function () {
    network();
    C.boundaries().then(function (geo) { territory(C.registerMaps(geo, document.documentElement.lang)); });
  });
})();
