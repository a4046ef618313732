// The review page (templates/admin/qa/reviewitem/change_form.html): a verdict is saved
// without reloading the page, so the reader keeps their place; the row then shows what
// was saved, and the focus moves on to the next criterion. Without this script the
// forms post as usual and the page comes back at the row.
"use strict";

(function () {
  function rowOf(form) {
    return document.getElementById(form.dataset.row);
  }

  function say(row, text, failed) {
    const status = row.querySelector(".qa-verdict-status");
    status.textContent = text;
    status.classList.toggle("qa-verdict-error", Boolean(failed));
  }

  function nextControl(row) {
    for (let next = row.nextElementSibling; next; next = next.nextElementSibling) {
      const control = next.querySelector(".qa-verdict-controls select");
      if (control) return control;
    }
    return null;
  }

  async function save(form) {
    const row = rowOf(form);
    const criterion = form.elements.criterion.value;
    say(row, "Saving…", false);
    let body;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      body = await response.json().catch(() => ({
        ok: false, message: `${criterion}: not saved — the server answered ${response.status}.`,
      }));
    } catch (error) {
      body = { ok: false, message: `${criterion}: not saved — no connection to the server.` };
    }
    if (!body.ok) {
      say(row, body.message, true);
      const reason = row.querySelector("input[name=reason]");
      if (reason && form.elements.agrees.value === "no" && !reason.value.trim()) reason.focus();
      return;
    }
    row.querySelector(".qa-verdict-saved").textContent = body.verdict.label;
    row.classList.add("qa-verdict-just-saved");
    say(row, body.message, false);
    const next = nextControl(row);
    if (next) next.focus();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form.qa-verdict-form")) return;
    event.preventDefault();
    save(form);
  });

  // Enter on a verdict's choice saves it too (in the reason field, the browser already does).
  document.addEventListener("keydown", (event) => {
    const select = event.target;
    if (event.key !== "Enter" || !select.matches || !select.matches(".qa-verdict-controls select")) return;
    event.preventDefault();
    select.form.requestSubmit();
  });
})();
