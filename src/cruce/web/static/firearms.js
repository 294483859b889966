// The firearms dashboard's charts, drawn with ECharts (served by cruce itself) from the figures the
// page embeds (#firearms-data). Maps use the state boundaries imported into the store
// (/firearms/boundaries.json); without them the states are drawn as bars. Each chart exports PNG
// and SVG (drawn again off screen by ECharts' SVG renderer), and a click lists its trace records.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("firearms-data").textContent);
  var L = config.labels;
  var charts = {};   // element id -> ECharts instance
  var options = {};  // element id -> the option it was drawn with (for the SVG export)
  var HIDDEN = { "US-AK": 1, "US-HI": 1, "US-PR": 1 };  // far from the border: they would shrink the map

  function records(keys) {
    var params = new URLSearchParams(config.query || "");
    Object.keys(keys).forEach(function (k) { params.set(k, keys[k]); });
    window.location.href = "/firearms/records?" + params.toString();
  }

  function draw(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return; }
    option.animation = false;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    if (onClick) { chart.on("click", onClick); }
    charts[id] = chart;
    options[id] = option;
    el.setAttribute("data-drawn", "1");
  }

  function bars(id, names, values, onClick, horizontal) {
    var category = { type: "category", data: names, axisLabel: { interval: 0, rotate: horizontal ? 0 : 45 } };
    var value = { type: "value" };
    draw(id, {
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 110 : 50, right: 20, top: 20, bottom: horizontal ? 30 : 80 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: [{ type: "bar", name: L.traces, data: values, itemStyle: { color: "#8c2d04" } }]
    }, onClick);
  }

  // -- geometry: each state's name is its code; its centre is the mean of its largest ring
  function featuresOf(geo, prefix) {
    return geo.features.filter(function (f) {
      return f.properties.code.indexOf(prefix) === 0 && !HIDDEN[f.properties.code];
    }).map(function (f) {
      return { type: "Feature", properties: { name: f.properties.code, label: f.properties.name }, geometry: f.geometry };
    });
  }

  function centre(geometry) {
    var polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    var ring = polys.map(function (p) { return p[0]; }).sort(function (a, b) { return b.length - a.length; })[0];
    var x = 0, y = 0;
    ring.forEach(function (pt) { x += pt[0]; y += pt[1]; });
    return [x / ring.length, y / ring.length];
  }

  function choropleth(id, mapName, rows, key, onClick) {
    var max = Math.max.apply(null, rows.map(function (r) { return r.traces; }).concat([1]));
    draw(id, {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var row = rows.filter(function (r) { return r[key] === p.name; })[0];
          if (!row) { return p.name; }
          var text = p.name + ": " + row.traces + " " + L.traces + " (" + (100 * row.share).toFixed(1) + " %)";
          if (row.per_100k_checks !== undefined && row.per_100k_checks !== null) {
            text += "<br>" + row.per_100k_checks + " " + L.per100k;
          }
          return text;
        }
      },
      visualMap: { min: 0, max: max, calculable: true, left: 10, bottom: 10, inRange: { color: ["#fff5eb", "#fd8d3c", "#7f2704"] } },
      series: [{
        type: "map", map: mapName, roam: true, name: L.traces,
        data: rows.map(function (r) { return { name: r[key], value: r.traces }; })
      }]
    }, onClick);
  }

  function flows(id, rows, centres) {
    var lines = rows.filter(function (r) { return centres[r.source_state] && centres[r.recovery_state]; });
    var max = Math.max.apply(null, lines.map(function (r) { return r.traces; }).concat([1]));
    draw(id, {
      tooltip: { trigger: "item", formatter: function (p) { return p.data ? p.data.label : ""; } },
      geo: { map: "cruce-both", roam: true, itemStyle: { areaColor: "#f4f1ec", borderColor: "#999" } },
      series: [{
        type: "lines", coordinateSystem: "geo",
        data: lines.map(function (r) {
          return {
            coords: [centres[r.source_state], centres[r.recovery_state]],
            source: r.source_state, target: r.recovery_state,
            label: r.source_state + " → " + r.recovery_state + ": " + r.traces + " " + L.traces,
            lineStyle: { width: 1 + 6 * r.traces / max, color: "#8c2d04", opacity: 0.7, curveness: 0.2 }
          };
        })
      }]
    }, function (p) { if (p.data) { records({ source_state: p.data.source, recovery_state: p.data.target }); } });
  }

  function corridorBars(id, rows) {
    bars(id, rows.map(function (r) { return r.source_state + " → " + r.recovery_state; }),
      rows.map(function (r) { return r.traces; }),
      function (p) { var r = rows[p.dataIndex]; records({ source_state: r.source_state, recovery_state: r.recovery_state }); },
      true);
  }

  function drawAll(geo) {
    var c = config.charts;
    var haveMaps = geo && geo.features && geo.features.some(function (f) { return f.properties.code.indexOf("US-") === 0; })
      && geo.features.some(function (f) { return f.properties.code.indexOf("MX-") === 0; });
    var byState = function (key) { return function (p) { var o = {}; o[key] = p.name; records(o); }; };
    if (haveMaps) {
      var us = featuresOf(geo, "US-"), mx = featuresOf(geo, "MX-");
      window.echarts.registerMap("cruce-us", { type: "FeatureCollection", features: us });
      window.echarts.registerMap("cruce-mx", { type: "FeatureCollection", features: mx });
      window.echarts.registerMap("cruce-both", { type: "FeatureCollection", features: us.concat(mx) });
      var centres = {};
      us.concat(mx).forEach(function (f) { centres[f.properties.name] = centre(f.geometry); });
      choropleth("chart-sources", "cruce-us", c.sources, "state", byState("source_state"));
      choropleth("chart-recoveries", "cruce-mx", c.recoveries, "state", byState("recovery_state"));
      flows("chart-corridors", c.corridors, centres);
    } else {
      document.getElementById("map-note").hidden = false;
      var top = function (rows) { return rows.slice(0, 15); };
      bars("chart-sources", top(c.sources).map(function (r) { return r.state; }), top(c.sources).map(function (r) { return r.traces; }),
        function (p) { records({ source_state: p.name }); }, true);
      bars("chart-recoveries", top(c.recoveries).map(function (r) { return r.state; }), top(c.recoveries).map(function (r) { return r.traces; }),
        function (p) { records({ recovery_state: p.name }); }, true);
      corridorBars("chart-corridors", top(c.corridors));
    }
    bars("chart-ttc", c.ttc.map(function (r) { return r.band; }), c.ttc.map(function (r) { return r.traces; }), null, false);
    typesOverTime("chart-types", c.types);
  }

  function typesOverTime(id, rows) {
    var years = [], kinds = [];
    rows.forEach(function (r) {
      if (years.indexOf(r.year) < 0) { years.push(r.year); }
      if (kinds.indexOf(r.type) < 0) { kinds.push(r.type); }
    });
    years.sort();
    var palette = ["#8c2d04", "#d94801", "#fd8d3c", "#6baed6", "#2171b5", "#74c476", "#bdbdbd", "#636363"];
    draw(id, {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: years, name: L.year, nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value" },
      series: kinds.map(function (kind, i) {
        return {
          type: "bar", stack: "types", name: kind, itemStyle: { color: palette[i % palette.length] },
          data: years.map(function (y) {
            var row = rows.filter(function (r) { return r.year === y && r.type === kind; })[0];
            return row ? row.traces : 0;
          })
        };
      })
    }, function (p) { records({ year: p.name, type: p.seriesName }); });
  }

  // -- exports
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

  function start() {
    fetch("/firearms/boundaries.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(drawAll);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
