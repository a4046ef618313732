// The review page (templates/admin/qa/reviewitem/change_form.html), for speed:
//  - the transcript and the scorecard fill the window below the page's head, side by side,
//    each scrolling on its own;
//  - a result is saved as it is chosen (a click on a radio, or its key), without reloading the
//    page; the row then shows what was saved, the scores and the undecided criteria follow, and
//    the focus moves on to the next undecided criterion (or, once none is left, "Archive and next");
//  - keys (the page's legend): ↑/↓ (or k/j) move between criteria; each result's key (p, f, 1-5,
//    a) sets it; r opens the reason, where Enter saves and Esc goes back to the row; n is
//    "Archive and next", Shift+A "Agree with the AI on the rest and archive";
//  - on load, the focus lands on the first undecided criterion (so, after "Start review" or
//    "Archive and next", scoring starts at once), or on "Start review" where the call is free.
// Which result a criterion takes, and when a reason is needed, are the server's to say: the script
// sends what was chosen and shows the answer (a refusal that names the reason opens the reason).
// Without this script the radios and Save post as usual and the page comes back at the row.
// Its texts are translated through Django's JavaScript catalogue (templates/qa/jsi18n.html, loaded first);
// without it, they read in English.
"use strict";

(function () {
  const gettext = window.gettext || ((text) => text);
  const interpolate = window.interpolate || ((format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => values[name]));
  const split = document.querySelector(".qa-split");
  const table = document.querySelector(".qa-criteria");
  const rows = () => [...document.querySelectorAll("tr.qa-criterion[data-form]")];
  const archive = document.querySelector(".qa-archive");

  // --- the two panes fit the window ---------------------------------------------------------

  function fit() {
    if (!split) return;
    const top = split.getBoundingClientRect().top + window.scrollY;
    split.style.setProperty("--qa-split-height", `${Math.max(360, window.innerHeight - top - 12)}px`);
  }
  fit();
  window.addEventListener("resize", fit);

  if (!table || !rows().length) return;  // nothing to decide here (not held, archived, blind, no results)
  table.classList.add("qa-scripted");

  // --- rows ----------------------------------------------------------------------------------

  const formOf = (row) => document.getElementById(row.dataset.form);
  const rowOf = (element) => element.closest && element.closest("tr.qa-criterion[data-form]");
  const chosen = (row) => row.querySelector("input[name=result]:checked");
  const reasonOf = (row) => row.querySelector("input[name=reason]");

  // A refusal shows in the row; a success only for screen readers (the row's own line shows what was saved).
  function say(row, text, failed) {
    const status = row.querySelector(".qa-verdict-status");
    status.textContent = text;
    status.classList.toggle("qa-verdict-error", Boolean(failed));
    status.classList.toggle("qa-said", !failed);
  }

  function focusRow(row) {
    if (!row) return;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function nextUndecided(after) {
    const all = rows();
    const start = after ? all.indexOf(after) + 1 : 0;
    const order = [...all.slice(start), ...all.slice(0, start)];
    return order.find((row) => row.classList.contains("qa-undecided")) || null;
  }

  function goOn(row) {
    const next = nextUndecided(row);
    if (next) focusRow(next);
    else if (archive) archive.querySelector("[data-testid=archive-next]").focus();
  }

  function openReason(row) {
    row.querySelector(".qa-reason").classList.add("qa-open");
    reasonOf(row).focus();
  }

  function showRecord(record) {
    const reviewed = document.querySelector("[data-testid=reviewed-score]");
    if (reviewed) reviewed.innerHTML = record.reviewed;  // the server's own rendering, escaped there
    const decided = document.querySelector("[data-testid=decided]");
    if (decided) decided.textContent = String(Number(decided.dataset.total) - record.undecided.length);
    if (!archive) return;
    archive.querySelector("[data-testid=undecided]").textContent = record.undecided.length
      ? interpolate(gettext("Undecided: %(criteria)s."), { criteria: record.undecided.join(", ") }, true)
      : gettext("Every criterion is decided.");
    archive.querySelector("[data-testid=agree-rest]").hidden = !record.undecided.length;
  }

  async function save(row) {
    if (row.dataset.saving) return;
    const form = formOf(row);
    const criterion = form.elements.criterion.value;
    if (!chosen(row)) {
      const keys = [...row.querySelectorAll("input[name=result]:not(:disabled)")].map((radio) => radio.dataset.key);
      say(row, interpolate(gettext("%(criterion)s: choose a result first (%(keys)s)."),
        { criterion, keys: keys.join(", ") }, true), true);
      return;
    }
    row.dataset.saving = "1";
    say(row, gettext("Saving…"), false);
    let body;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      body = await response.json().catch(() => ({
        ok: false,
        message: interpolate(gettext("%(criterion)s: not saved — the server answered %(status)s."),
          { criterion, status: response.status }, true),
      }));
    } catch (error) {
      body = {
        ok: false,
        message: interpolate(gettext("%(criterion)s: not saved — no connection to the server."), { criterion }, true),
      };
    } finally {
      delete row.dataset.saving;
    }
    if (!body.ok) {
      say(row, body.message, true);
      row.classList.add("qa-pending");
      if ((body.fields || []).includes("reason")) openReason(row);
      return;
    }
    const verdict = body.verdict;
    const radio = row.querySelector(`input[name=result][value="${verdict.choice}"]`);
    if (radio) radio.checked = true;
    reasonOf(row).value = verdict.reason;
    row.querySelector(".qa-reason").classList.remove("qa-open");  // the saved line says it
    row.querySelector(".qa-verdict-saved").textContent = verdict.label;
    row.classList.remove("qa-undecided", "qa-pending");
    row.classList.add("qa-decided", "qa-verdict-just-saved");
    say(row, body.message, false);
    showRecord(body.record);
    goOn(row);
  }

  // A click on a result saves it (a key sets it and saves it too: see below).
  document.addEventListener("change", (event) => {
    const radio = event.target;
    if (radio.name !== "result" || !rowOf(radio)) return;
    save(rowOf(radio));
  });

  // Save (without the script's keys: a click) and Enter in a reason both submit the row's form.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form.qa-verdict-form")) return;
    event.preventDefault();
    save(document.getElementById(form.dataset.row));
  });

  document.addEventListener("click", (event) => {
    const opener = event.target.closest && event.target.closest(".qa-reason-open");
    if (opener) openReason(rowOf(opener));
  });

  // --- keys ----------------------------------------------------------------------------------

  let current = null;  // the row last in focus: where j/k start from when the focus is elsewhere
  document.addEventListener("focusin", (event) => { current = rowOf(event.target) || current; });

  function move(from, step) {
    const all = rows();
    if (!from) return focusRow(current || nextUndecided(null) || all[0]);
    focusRow(all[Math.min(all.length - 1, Math.max(0, all.indexOf(from) + step))]);
  }

  function press(selector) {
    const button = archive && archive.querySelector(selector);
    if (button && !button.hidden && !button.disabled) button.click();
  }

  function keyed(event) {
    const target = event.target;
    const row = rowOf(target);
    const key = event.key;
    if (row && target.name === "reason") {  // in a reason: Enter saves, Esc goes back to the row
      if (key === "Enter") save(row);
      else if (key === "Escape") focusRow(row);
      else return false;
      return true;
    }
    const typing = target.isContentEditable || ["TEXTAREA", "SELECT"].includes(target.tagName)
      || (target.tagName === "INPUT" && target.type !== "radio");
    if (typing) return false;
    if (key === "j" || key === "k" || (row && (key === "ArrowDown" || key === "ArrowUp"))) {
      move(row, key === "j" || key === "ArrowDown" ? 1 : -1);
    } else if (key === "n") {
      press("[data-testid=archive-next]");
    } else if (key === "A") {
      press("[data-testid=agree-rest]");
    } else if (!row) {
      return false;
    } else if (key === "r") {
      openReason(row);
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      // kept from the radio group, which would move (and save) its choice: results are chosen by key or click
    } else {
      const radio = [...row.querySelectorAll("input[name=result]")].find((r) => r.dataset.key === key);
      if (!radio || radio.disabled) return false;
      if (!row.dataset.saving) {
        radio.checked = true;
        save(row);
      }
    }
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (keyed(event)) event.preventDefault();
  });

  // --- where the focus lands -----------------------------------------------------------------

  const asked = location.hash && document.getElementById(location.hash.slice(1));
  if (asked && asked.matches("tr.qa-criterion[data-form]")) focusRow(asked);
  else goOn(null);
})();
