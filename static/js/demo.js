// PainPlan demo EHR: picks a patient, drafts orders, calls the CDS Hooks services over HTTP and renders their
// cards the way an EHR does (indicator, summary, markdown detail, suggestions, links, override reasons).
// It talks to the services only through the CDS Hooks 2.0.1 JSON contract, like a real CDS client.
(function () {
  "use strict";

  var RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm";
  var UCUM = "http://unitsofmeasure.org";
  var CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category";
  var PER_DAY = { min: 1440, h: 24, d: 1, wk: 1 / 7 };
  var INDICATOR_WORDS = { critical: "Critical", warning: "Warning", info: "Info" };

  var data = JSON.parse(document.getElementById("demo-data").textContent);
  var drugs = {};
  var sigs = {};
  data.catalog.drugs.forEach(function (d) { drugs[d.key] = d; });
  data.catalog.sigs.forEach(function (s) { sigs[s.key] = s; });
  var patients = {};
  data.patients.forEach(function (p) { patients[p.id] = p; });

  var state = { patient: null, drafts: [], services: {}, sequence: 0 };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // crypto.randomUUID needs a secure context; a LAN address over plain HTTP is not one, so fall back.
  function uuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function nowIso() {
    // Local wall time with its UTC offset, the way EHRs write authoredOn.
    var now = new Date();
    var offset = -now.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var pad = function (n) { return String(Math.floor(Math.abs(n))).padStart(2, "0"); };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) + "T" + pad(now.getHours()) +
      ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds()) + sign + pad(offset / 60) + ":" + pad(offset % 60);
  }

  // ---- markdown (the subset cards use), always escaped first -------------------------------------------------

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function inline(text) {
    var html = escapeHtml(text);
    html = html.replace(/`([^`]+)`/g, "<code>$1</code>");
    html = html.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
    html = html.replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>");
    html = html.replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, function (_, label, url) {
      return '<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + label + "</a>";
    });
    return html;
  }

  function tableRow(line) {
    return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map(function (c) { return c.trim(); });
  }

  function markdown(source) {
    var lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    var out = [];
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      if (!line.trim()) { i += 1; continue; }
      var heading = /^(#{1,6})\s+(.*)$/.exec(line);
      if (heading) {
        var level = Math.min(6, heading[1].length + 3);
        out.push("<h" + level + ">" + inline(heading[2]) + "</h" + level + ">");
        i += 1;
        continue;
      }
      if (/^\s*\|/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1])) {
        var head = tableRow(line);
        var rows = [];
        i += 2;
        while (i < lines.length && /^\s*\|/.test(lines[i])) { rows.push(tableRow(lines[i])); i += 1; }
        out.push("<div class=\"table-wrap\"><table><thead><tr>" +
          head.map(function (c) { return "<th>" + inline(c) + "</th>"; }).join("") + "</tr></thead><tbody>" +
          rows.map(function (r) {
            return "<tr>" + r.map(function (c) { return "<td>" + inline(c) + "</td>"; }).join("") + "</tr>";
          }).join("") + "</tbody></table></div>");
        continue;
      }
      var bullet = /^\s*([-*+]|\d+[.)])\s+/;
      if (bullet.test(line)) {
        var ordered = /^\s*\d/.test(line);
        var items = [];
        while (i < lines.length && bullet.test(lines[i])) {
          items.push("<li>" + inline(lines[i].replace(bullet, "")) + "</li>");
          i += 1;
        }
        out.push((ordered ? "<ol>" : "<ul>") + items.join("") + (ordered ? "</ol>" : "</ul>"));
        continue;
      }
      var para = [];
      while (i < lines.length && lines[i].trim() && !bullet.test(lines[i]) && !/^#{1,6}\s/.test(lines[i]) &&
             !/^\s*\|/.test(lines[i])) {
        para.push(inline(lines[i]));
        i += 1;
      }
      out.push("<p>" + para.join("<br>") + "</p>");
    }
    return out.join("");
  }

  // ---- CDS Hooks client ------------------------------------------------------------------------------------

  function discover() {
    return fetch(data.discovery, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { services: [] }; })
      .then(function (body) {
        (body.services || []).forEach(function (s) {
          if (!state.services[s.hook]) { state.services[s.hook] = s.id; }
        });
      })
      .catch(function () { /* the service may be down; calls below report it */ });
  }

  function serviceId(hook) { return state.services[hook] || hook; }

  function callHook(hook, context) {
    var body = {
      hook: hook,
      hookInstance: uuid(),
      fhirServer: data.fhirServer,
      context: context
    };
    // No prefetch on purpose: the service fetches what it needs from the demo FHIR server, as with Epic.
    var started = performance.now();
    return fetch("/cds-services/" + encodeURIComponent(serviceId(hook)), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      var elapsed = Math.round(performance.now() - started);
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var issue = (json.issue || [])[0] || {};
          throw new Error("HTTP " + response.status + (issue.diagnostics ? ": " + issue.diagnostics : ""));
        }
        return { cards: json.cards || [], ms: elapsed };
      });
    });
  }

  function sendFeedback(hook, item) {
    item.outcomeTimestamp = new Date().toISOString();
    return fetch("/cds-services/" + encodeURIComponent(serviceId(hook)) + "/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ feedback: [item] })
    }).then(function (r) { return r.ok; }).catch(function () { return false; });
  }

  // ---- draft orders -------------------------------------------------------------------------------------------

  function buildDraft(form) {
    var sig = sigs[form.sig];
    var drug = form.drug === "custom"
      ? { rxnorm: form.customCode, display: form.customName || ("RxNorm " + form.customCode),
          text: form.customName || ("RxNorm " + form.customCode), unit: "tablet", ucum: "{tbl}" }
      : drugs[form.drug];
    var perDay = sig.dose * sig.frequency * PER_DAY[sig.period_unit] / sig.period;
    var quantity = drug.fixed_quantity || Math.max(1, Math.ceil(perDay * form.days - 1e-9));
    var unit = { value: 1, unit: drug.unit, system: UCUM, code: drug.ucum };
    state.sequence += 1;
    var order = {
      resourceType: "MedicationRequest",
      id: "demo-draft-" + state.sequence,
      status: "draft",
      intent: "order",
      category: [{ coding: [{ system: CATEGORY, code: "community", display: "Community" }] }],
      medicationCodeableConcept: { coding: [{ system: RXNORM, code: drug.rxnorm, display: drug.display }], text: drug.text },
      subject: { reference: "Patient/" + state.patient.id },
      authoredOn: nowIso(),
      requester: { reference: data.userId },
      dosageInstruction: [{
        sequence: 1,
        text: drug.text + ": " + sig.text,
        timing: { repeat: { frequency: sig.frequency, period: sig.period, periodUnit: sig.period_unit } },
        asNeededBoolean: sig.as_needed,
        doseAndRate: [{ doseQuantity: Object.assign({}, unit, { value: sig.dose }) }]
      }],
      dispenseRequest: {
        numberOfRepeatsAllowed: form.refills,
        quantity: Object.assign({}, unit, { value: quantity }),
        expectedSupplyDuration: { value: form.days, unit: "days", system: UCUM, code: "d" }
      }
    };
    if (form.replaces) { order.priorPrescription = { reference: "MedicationRequest/" + form.replaces }; }
    return order;
  }

  function readForm() {
    return {
      drug: $("drug").value,
      customCode: $("custom-code").value.trim(),
      customName: $("custom-name").value.trim(),
      sig: $("sig").value,
      days: Math.max(1, parseInt($("days").value, 10) || 1),
      refills: Math.max(0, parseInt($("refills").value, 10) || 0),
      replaces: $("replaces").value
    };
  }

  function describe(resource) {
    if (resource.resourceType === "MedicationRequest") {
      var med = resource.medicationCodeableConcept || {};
      var name = med.text || ((med.coding || [])[0] || {}).display || "medication";
      var dosage = (resource.dosageInstruction || [])[0] || {};
      var dispense = resource.dispenseRequest || {};
      var parts = [dosage.text && dosage.text.indexOf(name) === 0 ? dosage.text : name + (dosage.text ? ": " + dosage.text : "")];
      if (dispense.quantity) { parts.push("#" + dispense.quantity.value); }
      if (dispense.expectedSupplyDuration) { parts.push(dispense.expectedSupplyDuration.value + " days"); }
      if (dispense.numberOfRepeatsAllowed) { parts.push(dispense.numberOfRepeatsAllowed + " refills"); }
      if (resource.priorPrescription) { parts.push("replaces " + resource.priorPrescription.reference.split("/").pop()); }
      return parts.join(", ");
    }
    var code = resource.code || {};
    return (code.text || ((code.coding || [])[0] || {}).display || resource.resourceType) + " (" + resource.resourceType + ")";
  }

  function renderDrafts() {
    var list = $("drafts");
    list.textContent = "";
    if (!state.drafts.length) {
      list.appendChild(el("li", { "class": "muted" }, "No draft orders."));
      return;
    }
    state.drafts.forEach(function (resource) {
      var item = el("li", { "data-draft": resource.resourceType + "/" + resource.id });
      item.appendChild(el("span", {}, describe(resource)));
      var remove = el("button", { type: "button", "class": "link-button", "aria-label": "Remove draft" }, "Remove");
      remove.addEventListener("click", function () {
        state.drafts = state.drafts.filter(function (d) { return d !== resource; });
        renderDrafts();
      });
      item.appendChild(remove);
      list.appendChild(item);
    });
  }

  // ---- cards -----------------------------------------------------------------------------------------------

  function openPlan(appContext) {
    var url = data.launchPath + "?patient=" + encodeURIComponent(state.patient.id);
    if (appContext) { url += "&appContext=" + encodeURIComponent(appContext); }
    window.open(url, "_blank", "noopener");
  }

  function applySuggestion(suggestion) {
    (suggestion.actions || []).forEach(function (action) {
      if (action.type === "create" && action.resource) {
        var resource = JSON.parse(JSON.stringify(action.resource));
        state.sequence += 1;
        resource.id = resource.id || "demo-suggested-" + state.sequence;
        if (!resource.subject) { resource.subject = { reference: "Patient/" + state.patient.id }; }
        state.drafts.push(resource);
      } else if (action.type === "delete" && action.resourceId) {
        state.drafts = state.drafts.filter(function (d) { return d.resourceType + "/" + d.id !== action.resourceId; });
      }
    });
    renderDrafts();
  }

  function renderCard(card, hook) {
    var node = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
    var indicator = card.indicator || "info";
    var topic = (card.source && card.source.topic && card.source.topic.code) || "";
    node.classList.add("card--" + indicator);
    node.setAttribute("data-indicator", indicator);
    node.setAttribute("data-check", topic);
    node.querySelector(".card__indicator").textContent = INDICATOR_WORDS[indicator] || indicator;
    node.querySelector(".card__summary").textContent = card.summary || "";
    node.querySelector(".card__detail").innerHTML = markdown(card.detail);

    var suggestions = node.querySelector(".card__suggestions");
    (card.suggestions || []).forEach(function (suggestion) {
      var button = el("button", { type: "button", "class": "button suggestion" + (suggestion.isRecommended ? " suggestion--recommended" : "") },
        suggestion.label);
      button.addEventListener("click", function () {
        applySuggestion(suggestion);
        button.disabled = true;
        button.textContent = "Applied: " + suggestion.label;
        if (card.uuid && suggestion.uuid) {
          sendFeedback(hook, { card: card.uuid, outcome: "accepted", acceptedSuggestions: [{ id: suggestion.uuid }] });
        }
      });
      suggestions.appendChild(button);
    });

    var links = node.querySelector(".card__links");
    (card.links || []).forEach(function (link) {
      if (link.type === "smart") {
        var smart = el("button", { type: "button", "class": "link-button smart-link" }, link.label);
        smart.addEventListener("click", function () { openPlan(link.appContext); });
        links.appendChild(smart);
      } else if (/^https?:\/\//.test(link.url || "")) {
        links.appendChild(el("a", { href: link.url, target: "_blank", rel: "noopener noreferrer" }, link.label));
      }
    });

    var form = node.querySelector(".card__override");
    var reasons = card.overrideReasons || [];
    if (!reasons.length) {
      form.remove();
    } else {
      var select = form.querySelector(".card__reason");
      reasons.forEach(function (reason, index) { select.appendChild(el("option", { value: String(index) }, reason.display || reason.code)); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var reason = reasons[parseInt(select.value, 10)];
        var comment = form.querySelector(".card__comment").value.trim();
        var overrideReason = { reason: reason };
        if (comment) { overrideReason.userComment = comment; }
        var done = function (ok) {
          var note = el("p", { "class": "card__dismissed", "data-testid": "dismissed" },
            "Dismissed: " + (reason.display || reason.code) + (ok ? " (feedback sent)" : " (feedback not recorded)"));
          node.replaceChildren(note);
          node.classList.add("card--dismissed");
        };
        if (card.uuid) {
          sendFeedback(hook, { card: card.uuid, outcome: "overridden", overrideReason: overrideReason }).then(done);
        } else {
          done(false);
        }
      });
    }
    var source = card.source || {};
    node.querySelector(".card__source").textContent = "Source: " + (source.label || "unknown") + (topic ? " · " + topic : "");
    return node;
  }

  function showCards(container, status, hook, result) {
    container.textContent = "";
    result.cards.forEach(function (card) { container.appendChild(renderCard(card, hook)); });
    status.textContent = hook + " answered in " + result.ms + " ms with " + result.cards.length +
      (result.cards.length === 1 ? " card." : " cards.");
    status.setAttribute("data-state", "done");
  }

  function showError(container, status, hook, error) {
    container.textContent = "";
    status.textContent = hook + " failed: " + error.message;
    status.setAttribute("data-state", "error");
  }

  // ---- chart -----------------------------------------------------------------------------------------------

  function fillList(list, items, render) {
    list.textContent = "";
    if (!items.length) { list.appendChild(el("li", { "class": "muted" }, "None recorded.")); }
    items.forEach(function (item) { list.appendChild(render(item)); });
  }

  function prefillOrder(patient) {
    var replaces = $("replaces");
    replaces.textContent = "";
    replaces.appendChild(el("option", { value: "" }, "Nothing (new order)"));
    patient.activeOrders.forEach(function (o) { replaces.appendChild(el("option", { value: o.id }, o.text)); });
    $("drug").value = patient.order.drug;
    $("sig").value = patient.order.sig;
    $("days").value = patient.order.days;
    $("refills").value = patient.order.refills;
    replaces.value = patient.order.replaces || "";
    toggleCustom();
  }

  function patientView() {
    var status = $("pv-status");
    status.textContent = "Calling patient-view...";
    status.setAttribute("data-state", "busy");
    var context = { userId: data.userId, patientId: state.patient.id };
    callHook("patient-view", context)
      .then(function (result) { showCards($("pv-cards"), status, "patient-view", result); })
      .catch(function (error) { showError($("pv-cards"), status, "patient-view", error); });
  }

  function selectPatient(id) {
    var patient = patients[id];
    state.patient = patient;
    state.drafts = [];
    document.querySelectorAll(".patient-pick").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-patient") === id));
    });
    $("empty-chart").hidden = true;
    $("chart").hidden = false;
    $("banner-name").textContent = patient.name;
    $("banner-facts").textContent = [patient.age !== null ? patient.age + " y" : "", patient.gender,
      "DOB " + patient.birthDate, "MRN " + patient.mrn].filter(Boolean).join(" · ");
    $("story").textContent = patient.story;
    var expected = [];
    ["patient-view", "order-sign"].forEach(function (hook) {
      expected.push(hook + ": " + (patient.expected[hook].length ? patient.expected[hook].join(", ") : "no cards"));
    });
    $("expected").textContent = "Expected — " + expected.join("; ");
    fillList($("active-meds"), patient.activeOrders, function (o) {
      return el("li", {}, o.text + (o.sig ? " — " + o.sig : "") + " (since " + o.authoredOn + ")");
    });
    fillList($("problems"), patient.problems, function (c) { return el("li", {}, c.text + (c.status ? " (" + c.status + ")" : "")); });
    $("sign-cards").textContent = "";
    $("sign-status").textContent = "";
    $("sign-status").removeAttribute("data-state");
    prefillOrder(patient);
    renderDrafts();
    patientView();
  }

  function sign() {
    if (!state.patient) { return; }
    if (!state.drafts.length) { state.drafts.push(buildDraft(readForm())); renderDrafts(); }
    var status = $("sign-status");
    status.textContent = "Calling order-sign...";
    status.setAttribute("data-state", "busy");
    var context = {
      userId: data.userId,
      patientId: state.patient.id,
      draftOrders: { resourceType: "Bundle", type: "collection", entry: state.drafts.map(function (r) { return { resource: r }; }) }
    };
    callHook("order-sign", context)
      .then(function (result) { showCards($("sign-cards"), status, "order-sign", result); })
      .catch(function (error) { showError($("sign-cards"), status, "order-sign", error); });
  }

  function toggleCustom() { $("custom-drug").hidden = $("drug").value !== "custom"; }

  function buildSelects() {
    var drugSelect = $("drug");
    var groups = {};
    data.catalog.drugs.forEach(function (d) {
      if (!groups[d.group]) { groups[d.group] = drugSelect.appendChild(el("optgroup", { label: d.group })); }
      groups[d.group].appendChild(el("option", { value: d.key }, d.text));
    });
    drugSelect.appendChild(el("optgroup", { label: "Other" })).appendChild(el("option", { value: "custom" }, "Type an RxNorm code..."));
    data.catalog.sigs.forEach(function (s) { $("sig").appendChild(el("option", { value: s.key }, s.text)); });
  }

  function init() {
    buildSelects();
    $("drug").addEventListener("change", toggleCustom);
    $("order-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = readForm();
      if (form.drug === "custom" && !/^\d+$/.test(form.customCode)) { $("custom-code").focus(); return; }
      state.drafts.push(buildDraft(form));
      renderDrafts();
    });
    $("sign").addEventListener("click", sign);
    $("clear").addEventListener("click", function () { state.drafts = []; renderDrafts(); });
    $("open-plan").addEventListener("click", function () { openPlan(null); });
    document.querySelectorAll(".patient-pick").forEach(function (button) {
      button.addEventListener("click", function () { selectPatient(button.getAttribute("data-patient")); });
    });
    discover().then(function () {
      document.body.setAttribute("data-ready", "true");
      var wanted = new URLSearchParams(window.location.search).get("patient");
      if (wanted && patients[wanted]) { selectPatient(wanted); }
    });
  }

  init();
})();
