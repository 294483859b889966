// "Add to case" on the network explorer (/graph): the selected entities, or the whole chart, added to
// the investigation case chosen beside the chart. Words come from the page (#investigation-config);
// the session's CSRF token goes in the X-CSRF-Token header. No inline script (the CSP forbids it).
(function () {
  "use strict";
  var configNode = document.getElementById("investigation-config");
  if (!configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var $ = function (id) { return document.getElementById(id); };
  function say(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, key) { return key in values ? String(values[key]) : whole; });
  }
  function status(text) { $("explorer-case-status").textContent = text; }
  function explorer() { return window.cruceExplorer; }
  function post(body) {
    var caseId = $("explorer-case").value;
    return fetch("/investigations/" + encodeURIComponent(caseId) + "/explorer", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": config.csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(typeof answer.detail === "string" ? answer.detail : String(response.status)); }
        return answer;
      });
    });
  }
  function selectedIds() {
    var ex = explorer();
    if (!ex) { return []; }
    return ex.cy.nodes(":selected").filter(function (n) { return n.data("kind") === "entity"; }).map(function (n) { return n.id(); });
  }
  $("explorer-add-to-case").addEventListener("click", function () {
    var ids = selectedIds();
    if (!ids.length) { status(config.selectFirst); return; }
    status("…");
    post({ ids: ids }).then(function (answer) {
      status(say(config.added, { n: answer.added, already: answer.already }));
    }).catch(function (error) { status(say(config.failed, { detail: error.message })); });
  });
  $("explorer-chart-to-case").addEventListener("click", function () {
    var ex = explorer();
    if (!ex || !ex.chartState) { return; }
    var chart = ex.chartState();
    if (!chart.nodes.length) { status(config.selectFirst); return; }
    var name = ($("explorer-name") && $("explorer-name").value) || "";
    status("…");
    post({ name: name, chart: chart }).then(function () { status(config.chartAdded); })
      .catch(function (error) { status(say(config.failed, { detail: error.message })); });
  });
})();
