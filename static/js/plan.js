/* PainPlan plan view enhancements: the page works without this script; it only scores the OUD checklist live,
   recalculates the taper schedule in place, and copies the note. No network calls, no storage. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A card link opened the page for one topic: bring that section into view (the server marked it).
  var focused = document.querySelector(".section.focused");
  if (focused && !window.location.hash) {
    focused.setAttribute("tabindex", "-1");
    focused.scrollIntoView();
    focused.focus({ preventScroll: true });
  }

  function oudSeverity(count) {
    if (count >= 6) return "severe";
    if (count >= 4) return "moderate";
    if (count >= 2) return "mild";
    return "none";
  }

  // Card details print expanded; the chart data tables and query lists stay folded (they are for the screen).
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".card details").forEach(function (d) { d.setAttribute("open", ""); });
  });

  var oudForm = document.querySelector("[data-oud-form]");
  if (oudForm) {
    var score = document.getElementById("oud-score");
    var update = function () {
      var counted = 0;
      oudForm.querySelectorAll("input[name=oud]").forEach(function (box) {
        // Tolerance and withdrawal do not count under medical supervision (DSM-5), as on the server.
        if (box.checked && box.getAttribute("data-exempt") !== "yes") counted += 1;
      });
      var severity = oudSeverity(counted);
      score.textContent = severity === "none"
        ? counted + " of 11 criteria: below the threshold for opioid use disorder"
        : counted + " of 11 criteria: " + severity + " opioid use disorder criteria met";
    };
    oudForm.addEventListener("change", update);
  }

  // Recompute by asking our own server for the same page with the new choices: the schedule logic stays in one
  // place (guideline/taper.py), so the printed and the interactive schedule can never disagree. Listening on the
  // document keeps working after the section is replaced.
  document.addEventListener("change", function (event) {
    var form = event.target.closest ? event.target.closest("[data-taper-form]") : null;
    if (!form) return;
    var params = new URLSearchParams(new FormData(form));
    new URLSearchParams(window.location.search).getAll("oud").forEach(function (v) { params.append("oud", v); });
    var url = window.location.pathname + "?" + params.toString();
    var here = document.getElementById("taper");
    if (here) here.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("taper");
        if (fresh && here) {
          var focused = document.activeElement && document.activeElement.id;
          here.innerHTML = fresh.innerHTML;
          window.history.replaceState(null, "", url + "#taper");
          if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
        }
      })
      .catch(function () { /* the Calculate button still works without the live update */ })
      .then(function () { if (here) here.removeAttribute("aria-busy"); });
  });

  // Print: the summary by default; "Print full plan" prints every section, then the page returns to the summary.
  document.querySelectorAll("[data-print]").forEach(function (control) {
    control.addEventListener("click", function (event) {
      event.preventDefault();
      var full = control.getAttribute("data-print") === "full";
      var body = document.body;
      var before = body.className;
      body.classList.toggle("print-full", full);
      body.classList.toggle("print-summary", !full);
      var restore = function () { body.className = before; window.removeEventListener("afterprint", restore); };
      window.addEventListener("afterprint", restore);
      window.print();
    });
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      var text = source ? source.value : "";
      var done = function () { if (status) status.textContent = "Copied."; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {
          source.select(); document.execCommand("copy"); done();
        });
      } else if (source) {
        source.select(); document.execCommand("copy"); done();
      }
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // The taper section updates in place; a write must carry the schedule on screen, not the one the page loaded with.
  document.querySelectorAll("form.write-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var taper = document.querySelector("[data-taper-form]");
      if (!taper) return;
      ["rate", "interval", "basis", "target", "pause_at", "pause_intervals"].forEach(function (name) {
        var source = taper.elements[name];
        if (!source) return;
        var field = form.elements[name];
        if (!field) {
          field = document.createElement("input");
          field.type = "hidden";
          field.name = name;
          form.appendChild(field);
        }
        field.value = source.value;
      });
    });
  });
})();
