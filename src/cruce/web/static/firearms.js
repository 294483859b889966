// The firearms dashboard's charts, drawn with ECharts (through charts.js) from the figures the
// page embeds (#firearms-data), on the state boundaries cruce ships (or imported ones); without
// boundaries the states are drawn as bars. A click lists a figure's trace records.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("firearms-data").textContent);
  var L = config.labels;
  var C = window.cruceCharts;
  var draw = C.draw;

  function records(keys) {
    var params = new URLSearchParams(config.query || "");
    Object.keys(keys).forEach(function (k) { params.set(k, keys[k]); });
    window.location.href = "/firearms/records?" + params.toString();
  }

  function bars(id, names, values, onClick, horizontal) {
    return C.bars(id, names, values, onClick, horizontal, L.traces);
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
    var byState = function (key) { return function (p) { var o = {}; o[key] = p.name; records(o); }; };
    var maps = C.registerMaps(geo, document.documentElement.lang);
    if (maps) {
      var centres = maps.centres;
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
    C.groupedBars(id, rows, { x: "year", group: "type", value: "traces", xName: L.year },
      function (p) { records({ year: p.name, type: p.seriesName }); });
  }

  C.ready(function () { C.boundaries().then(drawAll); });
})();
