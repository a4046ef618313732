/* "Preview the effect" on an evaluator's edit page: the criteria in the form, rescored over past calls by
   the API (POST .../what-if/, qa/whatif.py). The rules and the figures come from the server; this only
   collects the rows, shows the answer and draws the two distributions. */
"use strict";
(function () {
  // The reader's language (Django's JavaScript catalogue, djangojs); as written here until a page loads it.
  const gettext = window.gettext || ((text) => text);
  const ngettext = window.ngettext || ((singular, plural, count) => (count === 1 ? singular : plural));
  const interpolate = window.interpolate ||
    ((format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])));
  // Figures as the reader's language writes them (52,5 in Spanish); the answer's numbers stay machine numbers.
  const locale = document.documentElement.lang || undefined;
  function number(n) {
    return typeof n === "number" ? n.toLocaleString(locale, { useGrouping: false, maximumFractionDigits: 2 }) : n;
  }

  function field(row, suffix) {
    return row.querySelector(`[name$="-${suffix}"]`);
  }

  function criteria() {
    const rows = document.querySelectorAll("#criteria-group tr.form-row:not(.empty-form)");
    const found = [];
    for (const row of rows) {
      const name = field(row, "name");
      const deleted = field(row, "DELETE");
      if (!name || (deleted && deleted.checked)) continue;
      if (!name.value.trim() && !field(row, "weight").value) continue;
      found.push({
        name: name.value, type: field(row, "type").value, weight: field(row, "weight").value,
        description: (field(row, "description") || { value: "" }).value,
      });
    }
    return found;
  }

  function csrf() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function text(tag, content, attrs) {
    const el = document.createElement(tag);
    el.textContent = content;
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    return el;
  }

  function range(low, high) {
    return low === high ? `${number(low)}` : `${number(low)}–${number(high)}`;
  }

  let chart = null;

  function show(box, data) {
    box.replaceChildren();
    const table = document.createElement("table");
    table.className = "qa-table";
    table.setAttribute("data-testid", "whatif-figures");
    const inRange = (values) => " " + interpolate(gettext("(range %(range)s)"), { range: range(...values) }, true);
    const rows = [
      [gettext("Calls"), number(data.calls), ""],
      [gettext("Average score"), number(data.avg_score_before), number(data.avg_score_after) +
        (data.inexact_calls ? inRange(data.avg_score_after_range) : "")],
      [gettext("Pass rate %"), number(data.pass_rate_before), number(data.pass_rate_after) +
        (data.inexact_calls ? inRange(data.pass_rate_after_range) : "")],
      [gettext("Critical fails"), number(data.critical_fails_before), number(data.critical_fails_after)],
    ];
    table.append(text("caption", gettext("Before → after")));
    for (const [label, before, after] of rows) {
      const tr = document.createElement("tr");
      tr.append(text("th", label, { scope: "row" }), text("td", before), text("td", after));
      table.append(tr);
    }
    box.append(table);
    box.append(text("p", interpolate(ngettext(
      "%(to_fail)s call would go from pass to fail, %(to_pass)s from fail to pass",
      "%(to_fail)s calls would go from pass to fail, %(to_pass)s from fail to pass", data.flipped_to_fail),
    { to_fail: data.flipped_to_fail, to_pass: data.flipped_to_pass }, true) +
      (data.flips_uncertain ? ", " + interpolate(gettext("%(count)s might either way"),
                                                 { count: data.flips_uncertain }, true) : "") + ".",
      { "data-testid": "whatif-flips" }));
    if (data.inexact_calls) {
      box.append(text("p", interpolate(ngettext(
        "%(count)s call has a scale value that cannot be recovered: its new score is a range (passed 3–5, " +
        "failed 1–2); the chart uses the middle of it.",
        "%(count)s calls have a scale value that cannot be recovered: their new score is a range (passed 3–5, " +
        "failed 1–2); the chart uses the middle of it.", data.inexact_calls),
      { count: data.inexact_calls }, true), { class: "help" }));
    }
    for (const item of data.not_evaluated) box.append(text("p", item.message, { class: "qa-alert" }));
    for (const notice of data.notices) box.append(text("p", notice, { class: "help" }));
    if (data.participants_most_affected.length) {
      const people = document.createElement("table");
      people.className = "qa-table";
      people.append(text("caption", gettext("Participants most affected")));
      for (const p of data.participants_most_affected) {
        const tr = document.createElement("tr");
        tr.append(text("th", p.tag || p.participant_id || gettext("no participant"), { scope: "row" }),
          text("td", interpolate(ngettext("%(count)s call", "%(count)s calls", p.calls), { count: p.calls }, true)),
          text("td", `${number(p.avg_score_before)} → ${number(p.avg_score_after)}`),
          text("td", `${p.change > 0 ? "+" : ""}${number(p.change)}`));
        people.append(tr);
      }
      box.append(people);
    }
    const labels = Object.keys(data.score_distribution_before);
    const holder = document.querySelector(".qa-whatif-chart");
    holder.hidden = false;
    if (chart) chart.destroy();
    chart = new Chart(document.getElementById("qa-whatif-chart"), {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: gettext("Before"), data: labels.map((l) => data.score_distribution_before[l]), backgroundColor: "#79aec8" },
          { label: gettext("After"), data: labels.map((l) => data.score_distribution_after[l]), backgroundColor: "#417690" },
        ],
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, locale,
        scales: { y: { beginAtZero: true, title: { display: true, text: gettext("calls") } } } },
    });
  }

  function showError(box, body) {
    box.replaceChildren();
    const error = (body && body.error) || { message: gettext("The preview failed.") };
    const list = document.createElement("ul");
    list.className = "errorlist";
    list.setAttribute("data-testid", "whatif-errors");
    const messages = error.fields ? Object.values(error.fields).flat() : [error.message];
    for (const message of messages) list.append(text("li", message));
    box.append(list);
  }

  // The pickers show the reader's order (the admin's calendar, qa/date_inputs.py); the API takes ISO. A value that
  // is no date goes as it is, and the API's 400 names the field.
  function isoDate(input) {
    const value = input.value.trim();
    if (!value || /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
    const day = value.strptime(get_format("DATE_INPUT_FORMATS")[0]);
    return isNaN(day) ? value : day.toISOString().slice(0, 10);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const root = document.getElementById("qa-whatif");
    if (!root) return;
    const box = document.getElementById("qa-whatif-result");
    document.getElementById("qa-whatif-run").addEventListener("click", async function () {
      const body = { criteria: criteria(), limit: parseInt(document.getElementById("qa-whatif-limit").value, 10) || 1000 };
      const from = isoDate(document.getElementById("qa-whatif-from"));
      const to = isoDate(document.getElementById("qa-whatif-to"));
      if (from) body.date_from = from;
      if (to) body.date_to = to;
      box.replaceChildren(text("p", gettext("Rescoring…"), { class: "help" }));
      const response = await fetch(root.dataset.url, {
        method: "POST", credentials: "same-origin",
        // The API's messages in the page's language.
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json",
                   ...(locale ? { "Accept-Language": locale } : {}) },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => null);
      if (response.ok) show(box, answer.data);
      else showError(box, answer);
    });
  });
})();
