// The victim statistics page's charts (ECharts through charts.js) from #people-stats-data.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("people-stats-data").textContent);
  var L = config.labels;
  var C = window.cruceCharts;
  var palette = ["#8c2d04", "#2171b5", "#238b45", "#d94801", "#6a51a3", "#636363", "#fd8d3c", "#6baed6"];

  function label(value) { return value === null || value === undefined ? L.notStated : String(value); }

  function byYear(id, rows) {
    var years = [], kinds = [];
    rows.forEach(function (r) {
      if (years.indexOf(label(r.year)) < 0) { years.push(label(r.year)); }
      if (kinds.indexOf(r.label) < 0) { kinds.push(r.label); }
    });
    years.sort();
    C.draw(id, {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: years, name: L.year, nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", name: L.records },
      series: kinds.map(function (kind, i) {
        return { type: "bar", stack: "types", name: kind, itemStyle: { color: palette[i % palette.length] },
          data: years.map(function (y) {
            return rows.filter(function (r) { return label(r.year) === y && r.label === kind; })
              .reduce(function (a, r) { return a + r.records; }, 0);
          }) };
      })
    });
  }

  C.ready(function () {
    byYear("chart-years", config.charts.by_year);
    var top = config.charts.citizenship;
    C.bars("chart-citizenship", top.map(function (r) { return r.label; }), top.map(function (r) { return r.records; }),
      null, true, L.records, "#2171b5");
  });
})();
