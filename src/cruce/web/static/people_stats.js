// The victim statistics page's charts (ECharts through charts.js) from #people-stats-data.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("people-stats-data").textContent);
  var L = config.labels;
  var C = window.cruceCharts;

  function label(value) { return value === null || value === undefined ? L.notStated : String(value); }

  function byYear(id, rows) {
    var year = function (r) { return label(r.year); };
    var labelled = rows.map(function (r) { return Object.assign({}, r, { x: year(r) }); });
    C.groupedBars(id, labelled, { x: "x", group: "label", value: "records", xName: L.year, yName: L.records });
  }

  C.ready(function () {
    byYear("chart-years", config.charts.by_year);
    var top = config.charts.citizenship;
    C.bars("chart-citizenship", top.map(function (r) { return r.label; }), top.map(function (r) { return r.records; }),
      null, true, L.records, "#2171b5");
  });
})();
