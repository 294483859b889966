// The drugs and violence dashboard's charts, drawn with ECharts (through charts.js) from the
// figures the page embeds (#flows-data), on the state boundaries cruce ships. A click on a state,
// a port, a point or a bar lists the records behind it (/drugs-violence/records).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("flows-data").textContent);
  var L = config.labels;
  var C = window.cruceCharts;
  var palette = C.palette;

  function records(keys) {
    var params = new URLSearchParams();
    Object.keys(keys).forEach(function (k) { if (keys[k] !== null && keys[k] !== undefined) { params.set(k, keys[k]); } });
    window.location.href = "/drugs-violence/records?" + params.toString();
  }

  // "homicide:INEGI" -> "Homicides · INEGI"
  function seriesLabel(series) {
    var parts = series.split(":");
    return (L[parts[0]] || parts[0]) + " · " + parts.slice(1).join(":");
  }

  // each series on its own line; its trend dashed, with the 95 % band as a stacked area
  function compare(id, trends) {
    var years = [];
    trends.forEach(function (s) { s.years.forEach(function (y) { if (years.indexOf(y.year) < 0) { years.push(y.year); } }); });
    years.sort();
    var series = [];
    trends.forEach(function (s, i) {
      var color = palette[i % palette.length];
      var value = function (y) { var p = s.years.filter(function (v) { return v.year === y; })[0]; return p ? p.killed : null; };
      var fit = function (y, key) { var f = s.fitted.filter(function (v) { return v.year === y; })[0]; return f ? f[key] : null; };
      var name = seriesLabel(s.series);
      series.push({ type: "line", name: name, source: s.series, data: years.map(value), itemStyle: { color: color }, connectNulls: false });
      if (s.fitted.length) {
        series.push({ type: "line", name: name + " · " + L.trend, data: years.map(function (y) { return fit(y, "fitted"); }),
          lineStyle: { type: "dashed", color: color }, itemStyle: { color: color }, symbol: "none" });
        series.push({ type: "line", name: name + " · " + L.interval, stack: "band-" + i, symbol: "none", lineStyle: { opacity: 0 },
          data: years.map(function (y) { return fit(y, "low"); }), tooltip: { show: false } });
        series.push({ type: "line", name: name + " · " + L.interval, stack: "band-" + i, symbol: "none", lineStyle: { opacity: 0 },
          areaStyle: { color: color, opacity: 0.12 }, tooltip: { show: false },
          data: years.map(function (y) { var lo = fit(y, "low"), hi = fit(y, "high"); return lo === null ? null : hi - lo; }) });
      }
    });
    C.draw(id, {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0, data: trends.map(function (s) { return seriesLabel(s.series); }) },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: years, name: L.year, nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", name: L.killed },
      series: series
    }, function (p) {
      var source = trends.filter(function (s) { return p.seriesName.indexOf(seriesLabel(s.series)) === 0; })[0];
      if (source) { records({ year: p.name, source: source.series.split(":").slice(1).join(":") }); }
    });
  }

  function homicideMap(id, rows, maps) {
    if (!maps) {
      C.bars(id, rows.map(function (r) { return r.state; }), rows.map(function (r) { return r.rate_per_100k; }),
        function (p) { records({ state: p.name, year: config.year, source: "INEGI" }); }, true, L.rate);
      return;
    }
    var max = Math.max.apply(null, rows.map(function (r) { return r.rate_per_100k || 0; }).concat([1]));
    var chart = C.draw(id, {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var row = rows.filter(function (r) { return r.state === p.name; })[0];
          var label = maps.labels[p.name] || p.name;
          return row ? label + ": " + row.rate_per_100k + " " + L.rate + "<br>" + row.homicides + " " + L.homicides : label;
        }
      },
      visualMap: { min: 0, max: max, calculable: true, left: 10, bottom: 10, text: [L.rate, ""], inRange: { color: ["#fff5eb", "#fd8d3c", "#7f2704"] } },
      series: [{ type: "map", map: "cruce-mx", roam: true, name: L.rate,
        data: rows.map(function (r) { return { name: r.state, value: r.rate_per_100k }; }) }]
    }, function (p) { records({ state: p.name, year: config.year, source: "INEGI" }); });
    C.scaleBar(chart, { seriesIndex: 0 });
  }

  // each cell coloured by its course over the years (space-time hot spots), sized by its events
  var COURSES = [["persistent", "#67000d"], ["emerging", "#ef3b2c"], ["diminishing", "#4292c6"], ["sporadic", "#fc9272"], ["not hot", "#bdbdbd"]];

  function hotspotMap(id, cells, plazas, ports, maps) {
    var maxPort = Math.max.apply(null, ports.map(function (p) { return p.crossings; }).concat([1]));
    var series = COURSES.map(function (course) {
      return {
        type: "scatter", coordinateSystem: "geo", name: L.courses[course[0]], itemStyle: { color: course[1] },
        symbolSize: function (v) { return course[0] === "not hot" ? 4 : 6 + Math.min(14, Math.sqrt(v[2])); },
        data: cells.filter(function (c) { return (c.course || "not hot") === course[0]; })
          .map(function (c) { return { value: [c.lon, c.lat, c.events], cell: c }; })
      };
    });
    series.push(
      { type: "scatter", coordinateSystem: "geo", name: L.port, symbol: "diamond", itemStyle: { color: "#2171b5" },
        symbolSize: function (v) { return 6 + 14 * Math.sqrt(v[2] / maxPort); },
        data: ports.map(function (p) { return { value: [p.lon, p.lat, p.crossings], port: p }; }) },
      { type: "scatter", coordinateSystem: "geo", name: L.plaza, symbol: "pin", symbolSize: 22, itemStyle: { color: "#252525" },
        data: plazas.map(function (p) { return { value: p.point.concat([1]), plaza: p }; }) }
    );
    var option = {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var d = p.data || {};
          if (d.cell) {
            return L.cell + " " + d.cell.cell + "<br>" + d.cell.events + " " + L.events + ", z = " + d.cell.z
              + (d.cell.hot ? " (" + L.hot + ")" : "") + "<br>" + L.courses[d.cell.course || "not hot"]
              + (d.cell.hot_periods ? ": " + d.cell.hot_periods : "");
          }
          if (d.port) { return d.port.port_name + " (" + d.port.state + ")<br>" + Number(d.port.crossings).toLocaleString() + " " + L.crossings + " " + (d.port.year || ""); }
          if (d.plaza) { return L.plaza + " " + (d.plaza.plaza || d.plaza.municipality) + "<br>" + (d.plaza.disputed ? L.disputed : L.holder) + " " + (d.plaza.org || ""); }
          return p.name;
        }
      },
      legend: { top: 0, type: "scroll", data: COURSES.map(function (c) { return L.courses[c[0]]; }).concat([L.port, L.plaza]) },
      series: series
    };
    if (maps) {
      option.geo = { map: "cruce-both", roam: true, center: [-105, 29], zoom: 3.2, itemStyle: { areaColor: "#f4f1ec", borderColor: "#999" } };
    } else {
      option.xAxis = { type: "value", scale: true }; option.yAxis = { type: "value", scale: true };
      series.forEach(function (s) { delete s.coordinateSystem; });
    }
    var chart = C.draw(id, option, function (p) {
      var d = p.data || {};
      if (d.port) { records({ kind: "seizures", port: d.port.port_name }); }
      if (d.plaza) { window.location.href = "/organizations/" + encodeURIComponent(d.plaza.org_id); }
      if (d.cell) { records({ cell: d.cell.cell }); }
    });
    if (maps) { C.scaleBar(chart, "geo"); }
  }

  // violence by municipality: a choropleth where municipal shapes were imported, else bars
  function municipalities(id, rows, shapes) {
    var keyed = {};
    rows.forEach(function (r) { keyed[r.code] = r; });
    var drawn = (shapes || []).filter(function (f) { return keyed[f.properties.code]; });
    if (!drawn.length) {
      document.getElementById("municipal-note").hidden = false;
      var top = rows.slice(0, 15);
      C.bars(id, top.map(function (r) { return r.municipality; }), top.map(function (r) { return r.events; }),
        function (p) { var r = top[p.dataIndex]; records({ state: r.state, municipality: r.municipality }); }, true, L.events);
      return;
    }
    window.echarts.registerMap("cruce-municipalities", { type: "FeatureCollection", features: (shapes || []).map(function (f) {
      return { type: "Feature", properties: { name: f.properties.code, label: f.properties.name }, geometry: f.geometry };
    }) });
    var max = Math.max.apply(null, rows.map(function (r) { return r.events; }).concat([1]));
    var chart = C.draw(id, {
      tooltip: { trigger: "item", formatter: function (p) { var r = keyed[p.name]; return r ? r.municipality + " (" + r.state + "): " + r.events + " " + L.events + ", " + r.killed + " " + L.killed : p.name; } },
      visualMap: { min: 0, max: max, calculable: true, left: 10, bottom: 10, text: [L.events, ""], inRange: { color: ["#fff5eb", "#fd8d3c", "#7f2704"] } },
      series: [{ type: "map", map: "cruce-municipalities", roam: true, name: L.events,
        data: rows.map(function (r) { return { name: r.code, value: r.events }; }) }]
    }, function (p) { var r = keyed[p.name]; if (r) { records({ state: r.state, municipality: r.municipality }); } });
    C.scaleBar(chart, { seriesIndex: 0 });
  }

  function seizureYears(id, rows) {
    C.groupedBars(id, rows, { x: "fiscal_year", group: "drug", value: "kilograms", xName: L.fy, yName: L.kg },
      function (p) { records({ kind: "seizures", fiscal_year: p.name, drug: p.seriesName }); });
  }

  function months(id, rows) {
    C.draw(id, {
      tooltip: { trigger: "axis" },
      grid: { left: 60, right: 20, top: 20, bottom: 50 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.month; }) },
      yAxis: { type: "value", name: L.seizures },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 14, bottom: 4 }],
      series: [
        { type: "line", name: L.seizures, data: rows.map(function (r) { return r.events; }), symbol: "none", itemStyle: { color: "#2171b5" } },
        { type: "scatter", name: L.outlier, itemStyle: { color: "#cb181d" },
          data: rows.map(function (r) { return r.outlier ? r.events : null; }) }
      ]
    }, function (p) { records({ kind: "seizures", month: p.name, drug: config.drug || null }); });
  }

  function seasonality(id, rows) {
    C.draw(id, {
      tooltip: { trigger: "axis" },
      grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.month; }), name: L.month, nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", name: L.share },
      series: [{ type: "bar", name: L.share, data: rows.map(function (r) { return r.share; }), itemStyle: { color: "#238b45" },
        markLine: { symbol: "none", label: { formatter: L.even }, data: [{ yAxis: 1 / 12 }] } }]
    });
  }

  function rates(id, rows) {
    var latest = {};
    rows.forEach(function (r) { if (!latest[r.port_code] || latest[r.port_code].year < r.year) { latest[r.port_code] = r; } });
    var shown = Object.keys(latest).map(function (k) { return latest[k]; })
      .sort(function (a, b) { return b.events_per_million - a.events_per_million; }).slice(0, 20);
    C.draw(id, {
      tooltip: { trigger: "axis" },
      grid: { left: 120, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "value", name: L.perMillion },
      yAxis: { type: "category", inverse: true, data: shown.map(function (r) { return r.port_name + " " + r.year; }) },
      series: [{ type: "bar", name: L.perMillion,
        data: shown.map(function (r) { return { value: r.events_per_million, itemStyle: { color: r.outlier ? "#cb181d" : "#6baed6" } }; }) }]
    }, function (p) { var r = shown[p.dataIndex]; records({ kind: "seizures", port: r.port_name }); });
  }

  function officeRates(id, rows) {
    var rate = function (hits) {
      var r = hits[0];  // one row per office and year
      return r.outlier ? { value: r.events_per_million, itemStyle: { borderColor: "#cb181d", borderWidth: 3 } } : r.events_per_million;
    };
    C.groupedBars(id, rows, { x: "fiscal_year", group: "office", value: rate, stack: false, xName: L.fy, yName: L.perMillion },
      function (p) { records({ kind: "seizures", fiscal_year: p.name }); });
  }

  function drawAll(geo) {
    var c = config.charts;
    var maps = C.registerMaps(geo, document.documentElement.lang);
    if (!maps) { document.getElementById("map-note").hidden = false; }
    compare("chart-compare", c.trends);
    homicideMap("chart-homicides", c.homicides, maps);
    hotspotMap("chart-hotspots", c["hot-spots"], c.plazas, c.ports, maps);
    municipalities("chart-municipalities", c.municipalities, geo && geo.municipalities);
    seizureYears("chart-seizures", c.seizures);
    months("chart-months", c.months);
    seasonality("chart-seasonality", c.seasonality);
    officeRates("chart-office-rates", c["office-rates"]);
    rates("chart-rates", c.rates);
  }

  C.ready(function () { C.boundaries().then(drawAll); });
})();
