// What every dashboard's charts share (ECharts, served by cruce itself): drawing a chart and
// keeping its option, bars, the state maps (the boundaries cruce ships, or imported ones, from
// /maps/boundaries.json: no tile server), and the PNG and SVG exports of each chart (the SVG drawn
// again off screen by ECharts' SVG renderer). Pages call window.cruceCharts.
(function () {
  "use strict";
  var charts = {};   // element id -> ECharts instance
  var options = {};  // element id -> the option it was drawn with (for the SVG export)
  var HIDDEN = { "US-AK": 1, "US-HI": 1, "US-PR": 1 };  // far from the border: they would shrink the map

  function draw(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    option.animation = false;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    if (onClick) { chart.on("click", onClick); }
    charts[id] = chart;
    options[id] = option;
    el.setAttribute("data-drawn", "1");
    return chart;
  }

  function bars(id, names, values, onClick, horizontal, seriesName, color) {
    var category = { type: "category", data: names, axisLabel: { interval: 0, rotate: horizontal ? 0 : 45 } };
    var value = { type: "value" };
    return draw(id, {
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 110 : 50, right: 20, top: 20, bottom: horizontal ? 30 : 80 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: [{ type: "bar", name: seriesName, data: values, itemStyle: { color: color || "#8c2d04" } }]
    }, onClick);
  }

  var PALETTE = ["#8c2d04", "#2171b5", "#238b45", "#d94801", "#6a51a3", "#636363", "#fd8d3c", "#6baed6"];

  // Bars by x (sorted) and group, stacked unless o.stack === false. o: {x, group (a key or a
  // function of a row), value (a key or a function of the rows of one bar), xName, yName}.
  function groupedBars(id, rows, o, onClick) {
    var groupOf = typeof o.group === "function" ? o.group : function (r) { return r[o.group]; };
    var valueOf = typeof o.value === "function" ? o.value
      : function (hits) { return hits.reduce(function (a, r) { return a + (r[o.value] || 0); }, 0); };
    var xs = [], groups = [];
    rows.forEach(function (r) {
      if (xs.indexOf(r[o.x]) < 0) { xs.push(r[o.x]); }
      if (groups.indexOf(groupOf(r)) < 0) { groups.push(groupOf(r)); }
    });
    xs.sort();
    return draw(id, {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: xs, name: o.xName, nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", name: o.yName },
      series: groups.map(function (g, i) {
        return {
          type: "bar", stack: o.stack === false ? undefined : "bars", name: g,
          itemStyle: { color: PALETTE[i % PALETTE.length] },
          data: xs.map(function (x) {
            var hits = rows.filter(function (r) { return r[o.x] === x && groupOf(r) === g; });
            return hits.length ? valueOf(hits) : (o.stack === false ? null : 0);
          })
        };
      })
    }, onClick);
  }

  // -- geometry: each state's map name is its code; its centre is the mean of its largest ring
  function featuresOf(geo, prefix, lang) {
    return geo.features.filter(function (f) {
      return f.properties.code.indexOf(prefix) === 0 && !HIDDEN[f.properties.code];
    }).map(function (f) {
      var label = (lang === "es" && f.properties.name_es) || f.properties.name;
      return { type: "Feature", properties: { name: f.properties.code, label: label }, geometry: f.geometry };
    });
  }

  function centre(geometry) {
    var polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    var ring = polys.map(function (p) { return p[0]; }).sort(function (a, b) { return b.length - a.length; })[0];
    var x = 0, y = 0;
    ring.forEach(function (pt) { x += pt[0]; y += pt[1]; });
    return [x / ring.length, y / ring.length];
  }

  // Registers cruce-us, cruce-mx and cruce-both; returns {centres, labels} by state code, or null
  // when the boundaries lack either country.
  function registerMaps(geo, lang) {
    var ok = geo && geo.features && geo.features.some(function (f) { return f.properties.code.indexOf("US-") === 0; })
      && geo.features.some(function (f) { return f.properties.code.indexOf("MX-") === 0; });
    if (!ok) { return null; }
    var us = featuresOf(geo, "US-", lang), mx = featuresOf(geo, "MX-", lang);
    window.echarts.registerMap("cruce-us", { type: "FeatureCollection", features: us });
    window.echarts.registerMap("cruce-mx", { type: "FeatureCollection", features: mx });
    window.echarts.registerMap("cruce-both", { type: "FeatureCollection", features: us.concat(mx) });
    var centres = {}, labels = {};
    us.concat(mx).forEach(function (f) {
      centres[f.properties.name] = centre(f.geometry);
      labels[f.properties.name] = f.properties.label;
    });
    return { centres: centres, labels: labels };
  }

  // A scale bar in the map's bottom right corner, in km, measured at the border's latitude and
  // kept right as the user zooms and pans. finder: "geo" or {seriesIndex: n} (ECharts' finder).
  var NICE_KM = [10, 20, 50, 100, 200, 300, 500, 1000, 2000];
  function scaleBar(chart, finder) {
    if (!chart) { return; }
    function update() {
      var a = chart.convertToPixel(finder, [-105, 29]), b = chart.convertToPixel(finder, [-104, 29]);
      if (!a || !b) { return; }
      var perKm = Math.abs(b[0] - a[0]) / (111.32 * Math.cos(29 * Math.PI / 180));
      var km = NICE_KM.filter(function (k) { return k * perKm <= 120; }).pop() || NICE_KM[0];
      var width = km * perKm, right = chart.getWidth() - 16, bottom = chart.getHeight() - 14;
      chart.setOption({ graphic: [
        { id: "scale-line", type: "polyline", silent: true, shape: { points: [[right - width, bottom - 5], [right - width, bottom], [right, bottom], [right, bottom - 5]] }, style: { stroke: "#333", lineWidth: 1.5, fill: null } },
        { id: "scale-text", type: "text", silent: true, x: right - width / 2, y: bottom - 18, style: { text: km + " km", fill: "#333", font: "11px sans-serif", align: "center" } }
      ] });
      chart.getDom().setAttribute("data-scale-km", String(km));
    }
    update();
    chart.on("georoam", update);
  }

  function boundaries() {
    return fetch("/maps/boundaries.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function download(name, href) {
    var a = document.createElement("a");
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.export-png, button.export-svg");
    if (!button) { return; }
    var id = button.getAttribute("data-chart");
    var chart = charts[id];
    if (!chart) { return; }
    if (button.classList.contains("export-png")) {
      download("cruce-" + id + ".png", chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" }));
      return;
    }
    var el = document.getElementById(id);
    var offscreen = window.echarts.init(null, null, { renderer: "svg", ssr: true, width: el.clientWidth, height: el.clientHeight });
    offscreen.setOption(options[id]);
    var svg = offscreen.renderToSVGString();
    offscreen.dispose();
    download("cruce-" + id + ".svg", URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" })));
  });

  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  function ready(start) {
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
  }

  window.cruceCharts = {
    draw: draw, bars: bars, groupedBars: groupedBars, palette: PALETTE, registerMaps: registerMaps, boundaries: boundaries, ready: ready, charts: charts,
    scaleBar: scaleBar
  };
})();
