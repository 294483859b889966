// The "Law and enforcement" page: the US and Mexican states with a law of the chosen kind in force
// at the end of the year the slider picks, drawn with ECharts (through charts.js) on the state
// boundaries cruce ships (no tile server), from the per-year series the page embeds (#legal-data).
// Without boundaries the table of years below the map says the same. A click on a state opens its
// legal timeline beside the counts of the flows there.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("legal-data").textContent);
  var L = config.labels;
  var C = window.cruceCharts;
  var series = config.series || [];
  var chart = null;
  var labels = {};

  function rowOf(year) {
    return series.filter(function (r) { return r.year === year; })[0] || { year: year, count: 0, jurisdictions: [] };
  }

  function option(row) {
    var inForce = {};
    row.jurisdictions.forEach(function (code) { inForce[code] = 1; });
    return {
      title: { text: String(row.year) + " · " + L.states.replace("{n}", row.count), left: 10, top: 5, textStyle: { fontSize: 13 } },
      tooltip: {
        trigger: "item",
        formatter: function (p) { return (labels[p.name] || p.name) + ": " + (inForce[p.name] ? L.inForce : L.notInForce); }
      },
      visualMap: {
        type: "piecewise", left: 10, bottom: 10,
        pieces: [{ value: 1, label: L.inForce, color: "#8c2d04" }, { value: 0, label: L.notInForce, color: "#f4f1ec" }]
      },
      series: [{
        type: "map", map: "cruce-both", roam: true,
        itemStyle: { borderColor: "#999" },
        data: Object.keys(labels).map(function (code) { return { name: code, value: inForce[code] ? 1 : 0 }; })
      }]
    };
  }

  function show(year) {
    var row = rowOf(year);
    var out = document.getElementById("legal-year-out");
    var count = document.getElementById("legal-count");
    if (out) { out.textContent = String(year); }
    if (count) { count.textContent = L.states.replace("{n}", row.count); }
    var el = document.getElementById("chart-legal");
    if (el) { el.setAttribute("data-year", String(year)); el.setAttribute("data-count", String(row.count)); }
    if (chart) { chart.setOption(option(row), true); }
  }

  function drawAll(geo) {
    var maps = C.registerMaps(geo, document.documentElement.lang);
    var slider = document.getElementById("legal-year");
    if (!series.length) { return; }
    var last = series[series.length - 1].year;
    if (maps) {
      labels = maps.labels;
      chart = C.draw("chart-legal", option(rowOf(last)), function (p) {
        if (p.name) { window.location.href = "/legal/jurisdiction/" + encodeURIComponent(p.name); }
      });
      C.scaleBar(chart, { seriesIndex: 0 });
    } else {
      document.getElementById("map-note").hidden = false;
    }
    show(last);
    if (slider) { slider.addEventListener("input", function () { show(Number(slider.value)); }); }
  }

  C.ready(function () { C.boundaries().then(drawAll); });
})();
