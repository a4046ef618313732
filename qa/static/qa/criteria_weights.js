/* Shows the running sum of the non-strict criteria weights while an evaluator is edited.
   The rule itself lives on the server (qa/rules.py); this only helps the user get there. */
"use strict";
(function () {
  const TOTAL = 100;
  // The reader's language (Django's JavaScript catalogue, djangojs); as written here until a page loads it.
  const gettext = window.gettext || ((text) => text);
  const interpolate = window.interpolate ||
    ((format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])));
  const locale = document.documentElement.lang || undefined;
  const number = (n) => n.toLocaleString(locale, { useGrouping: false, maximumFractionDigits: 2 });

  function rows(group) {
    return Array.from(group.querySelectorAll("tr.form-row:not(.empty-form)"));
  }

  function field(row, suffix) {
    return row.querySelector(`[name$="-${suffix}"]`);
  }

  function update(group, output) {
    let sum = 0;
    let strictWithWeight = 0;
    for (const row of rows(group)) {
      const weight = field(row, "weight");
      const type = field(row, "type");
      const deleted = field(row, "DELETE");
      if (!weight || (deleted && deleted.checked)) continue;
      const value = parseFloat(weight.value) || 0;
      if (type && type.value === "strict") {
        if (value) strictWithWeight += 1;
        continue;
      }
      sum += value;
    }
    sum = Math.round(sum * 100) / 100;
    const ok = sum === TOTAL;
    const gap = Math.round(Math.abs(TOTAL - sum) * 100) / 100;
    output.textContent = interpolate(gettext("Non-strict weights: %(sum)s of %(total)s"),
                                     { sum: number(sum), total: number(TOTAL) }, true) +
      (ok ? " ✔" : " — " + interpolate(sum < TOTAL ? gettext("%(gap)s to add") : gettext("%(gap)s too many"),
                                        { gap: number(gap) }, true)) +
      (strictWithWeight ? " · " + gettext("strict criteria always weigh 0") : "");
    output.className = "weight-total " + (ok ? "weight-total-ok" : "weight-total-bad");
  }

  document.addEventListener("DOMContentLoaded", function () {
    const group = document.getElementById("criteria-group");
    if (!group) return;
    const output = document.createElement("p");
    output.id = "criteria-weight-total";
    output.setAttribute("role", "status");
    output.setAttribute("aria-live", "polite");
    const heading = group.querySelector("h2");
    (heading ? heading.parentNode : group).insertBefore(output, heading ? heading.nextSibling : group.firstChild);
    const refresh = () => update(group, output);
    group.addEventListener("input", refresh);
    group.addEventListener("change", refresh);
    document.addEventListener("formset:added", refresh);
    document.addEventListener("formset:removed", refresh);
    refresh();
  });
})();
