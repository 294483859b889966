// The screening interview: one topic per screen; every answer is sent at once and kept in this
// browser (localStorage) until the server acknowledges it, so a dropped connection loses nothing.
// Unsent answers are retried when the browser is back online and on a timer; on load they are
// merged with what the server holds (the later sequence number wins, as on the server).
// Every word shown comes from the page (#screening-config); no inline script (CSP).
(function () {
  "use strict";
  var node = document.getElementById("screening-config");
  if (!node) { return; }
  var config = JSON.parse(node.textContent);
  var L = config.labels;
  var KEY = "cruce-screening-" + config.id;
  var RETRY_MS = 3000;
  var NOTE_PAUSE_MS = 800;
  var root = document.getElementById("sc-interview");
  var sections = Array.prototype.slice.call(document.querySelectorAll(".sc-domain"));
  var steps = Array.prototype.slice.call(document.querySelectorAll(".sc-step"));
  var total = document.querySelectorAll(".sc-question").length;
  var server = config.answers || {};
  var saved = readLocal();
  var pending = saved.pending || {};
  var language = saved.language || null; // a language switch the server has not acknowledged
  var lastSeq = 0;
  var inflight = false;
  var timer = null;
  var step = 0;

  function readLocal() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; }
  }

  function writeLocal() {
    try {
      if (Object.keys(pending).length || language) {
        window.localStorage.setItem(KEY, JSON.stringify({ pending: pending, language: language }));
      } else {
        window.localStorage.removeItem(KEY); // nothing unsent: nothing of the interview stays here
      }
    } catch (e) { /* storage full or disabled: the answers still go to the server */ }
  }

  function nextSeq() {
    lastSeq = Math.max(lastSeq + 1, Date.now());
    return lastSeq;
  }

  function setState(question, state) {
    var el = document.getElementById("s-" + question);
    if (!el) { return; }
    el.setAttribute("data-state", state);
    el.textContent = state === "none" ? "" : L[state];
  }

  function connection(text) {
    document.getElementById("sc-connection").textContent = text || "";
  }

  function shown(question) {
    var checked = document.querySelector("input[name='a-" + question + "']:checked");
    var note = document.getElementById("n-" + question);
    return { answer: checked ? checked.value : null, note: note ? note.value : "" };
  }

  function show(question, entry) {
    if (entry.answer) {
      var input = document.getElementById("a-" + question + "-" + entry.answer);
      if (input) { input.checked = true; }
    }
    var note = document.getElementById("n-" + question);
    if (note && typeof entry.note === "string") { note.value = entry.note; }
  }

  function progress() {
    var answered = document.querySelectorAll(".sc-question input:checked").length;
    document.getElementById("sc-progress").value = answered;
    document.getElementById("sc-progress-text").textContent =
      L.progress.replace("{answered}", String(answered)).replace("{total}", String(total));
    sections.forEach(function (section, i) {
      var open = section.querySelectorAll(".sc-question").length - section.querySelectorAll("input:checked").length;
      if (steps[i]) { steps[i].classList.toggle("sc-done", open === 0); }
    });
  }

  function record(question) {
    var now = shown(question);
    pending[question] = {
      question: question, answer: now.answer, note: now.note, seq: nextSeq(), answered_at: new Date().toISOString()
    };
    writeLocal();
    setState(question, "waiting");
    progress();
    flush();
  }

  function schedule() {
    if (timer === null) { timer = window.setTimeout(function () { timer = null; flush(); }, RETRY_MS); }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw response; }
      return response.json();
    });
  }

  function acknowledge(stored) {
    stored.forEach(function (item) {
      var mine = pending[item.question];
      if (mine && mine.seq <= item.seq) {
        server[item.question] = { answer: mine.answer, note: mine.note, seq: item.seq };
        delete pending[item.question];
        setState(item.question, "saved");
      }
    });
    writeLocal();
  }

  function flush() {
    if (language) { sendLanguage(); }
    var entries = Object.keys(pending).map(function (q) { return pending[q]; });
    if (!entries.length || inflight) { return; }
    inflight = true;
    post("/screenings/" + config.id + "/answers", { answers: entries }).then(function (body) {
      inflight = false;
      acknowledge(body.saved || []);
      connection("");
      if (Object.keys(pending).length) { flush(); } // answered while this batch was on its way
    }).catch(function (error) {
      inflight = false;
      var status = error && error.status;
      entries.forEach(function (e) {
        if (pending[e.question]) { setState(e.question, status === 422 ? "failed" : "waiting"); }
      });
      connection(status === 401 || status === 403 ? L.signin : status ? "" : L.offline);
      schedule();
    });
  }

  function sendLanguage() {
    var chosen = language;
    post("/screenings/" + config.id + "/language", { language: chosen }).then(function () {
      if (language === chosen) { language = null; writeLocal(); }
    }).catch(function () { schedule(); });
  }

  function setLanguage(lang, send) {
    root.setAttribute("data-qlang", lang);
    ["en", "es"].forEach(function (l) {
      document.getElementById("q-lang-" + l).setAttribute("aria-pressed", l === lang ? "true" : "false");
    });
    if (send) { language = lang; writeLocal(); sendLanguage(); }
  }

  function showStep(i, focus) {
    step = Math.max(0, Math.min(sections.length - 1, i));
    sections.forEach(function (section, k) { section.hidden = k !== step; });
    steps.forEach(function (button, k) {
      if (k === step) { button.setAttribute("aria-current", "step"); } else { button.removeAttribute("aria-current"); }
    });
    document.getElementById("sc-prev").disabled = step === 0;
    document.getElementById("sc-next").disabled = step === sections.length - 1;
    window.history.replaceState(null, "", "#topic-" + (step + 1));
    if (focus) { sections[step].querySelector("h2").scrollIntoView({ block: "start" }); }
  }

  // -- merge what this browser still holds with what the server has --------------------------
  Object.keys(server).forEach(function (q) { lastSeq = Math.max(lastSeq, server[q].seq); });
  Object.keys(pending).forEach(function (q) {
    var theirs = server[q];
    if (theirs && theirs.seq >= pending[q].seq) {
      delete pending[q]; // the server already has this answer, or a later one
    } else {
      lastSeq = Math.max(lastSeq, pending[q].seq);
      show(q, pending[q]);
      setState(q, "waiting");
    }
  });
  writeLocal();
  if (language) { setLanguage(language, false); }

  // -- events ---------------------------------------------------------------------------------
  root.addEventListener("change", function (event) {
    var question = event.target.closest(".sc-question");
    if (question) { record(question.getAttribute("data-question")); }
  });
  var typing = {}; // a note is saved a moment after the typing stops, not only when it loses focus
  root.addEventListener("input", function (event) {
    var question = event.target.classList.contains("sc-note") && event.target.closest(".sc-question");
    if (!question) { return; }
    var id = question.getAttribute("data-question");
    window.clearTimeout(typing[id]);
    typing[id] = window.setTimeout(function () { record(id); }, NOTE_PAUSE_MS);
  });
  document.getElementById("q-lang-en").addEventListener("click", function () { setLanguage("en", true); });
  document.getElementById("q-lang-es").addEventListener("click", function () { setLanguage("es", true); });
  document.getElementById("sc-prev").addEventListener("click", function () { showStep(step - 1, true); });
  document.getElementById("sc-next").addEventListener("click", function () { showStep(step + 1, true); });
  steps.forEach(function (button) {
    button.addEventListener("click", function () { showStep(Number(button.getAttribute("data-step")), true); });
  });
  document.getElementById("sc-complete").addEventListener("submit", function (event) {
    if (Object.keys(pending).length) {
      event.preventDefault();
      connection(L.pending);
      flush();
    }
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { connection(L.offline); });

  var fromHash = /^#topic-(\d+)$/.exec(window.location.hash);
  showStep(fromHash ? Number(fromHash[1]) - 1 : 0, false);
  progress();
  flush();
}());
