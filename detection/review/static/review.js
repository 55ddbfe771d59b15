// Keyboard shortcuts for the analysts' review pages. Every page works without this file.
//
// Case page: C, U, A, M choose counterfeit, unauthorised seller, authentic or more info and
// move to the note, where Enter records the decision and Esc leaves the note; Q goes back to
// the queue; ? shows the shortcuts. Queue: J and K move between cases, Enter (or O) opens
// one, X selects it for a bulk decision, ? shows the shortcuts.
(() => {
  "use strict";
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  const decisionForm = () => document.getElementById("decision-form");
  let focusOnKeyUp = null; // the note, after a decision key

  function onCasePage(e) {
    const form = decisionForm();
    const key = e.key.toLowerCase();
    if (key === "q") {
      window.location.href = "/analyst/cases";
      return true;
    }
    if (!form) return false;
    const radio = form.querySelector(`input[type=radio][data-key="${key}"]`);
    if (radio) {
      radio.checked = true;
      // Move to the note when the key comes up: by then its own character has been dealt
      // with, so it is never typed into the note (a timer could fire before a slow browser
      // delivered the character).
      focusOnKeyUp = form.querySelector("#note");
      return true;
    }
    return false;
  }

  let current = -1;
  const rows = () => Array.from(document.querySelectorAll("#queue tbody tr[data-case]"));

  function mark(i) {
    const list = rows();
    if (list.length === 0) return;
    current = Math.max(0, Math.min(i, list.length - 1));
    list.forEach((r, j) => r.classList.toggle("current", j === current));
    const link = list[current].querySelector("a");
    if (link) link.focus({ preventScroll: false });
  }

  function onQueue(e) {
    if (!document.getElementById("queue")) return false;
    const key = e.key.toLowerCase();
    const list = rows();
    if (key === "j") { mark(current + 1); return true; }
    if (key === "k") { mark(current - 1); return true; }
    if (current < 0 || current >= list.length) return false;
    if (key === "x") {
      const box = list[current].querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
      return true;
    }
    if (key === "o") {
      const link = list[current].querySelector("a");
      if (link) window.location.href = link.href;
      return true;
    }
    return false;
  }

  function showHelp() {
    const dialog = document.getElementById("shortcuts");
    if (dialog && typeof dialog.showModal === "function") {
      dialog.showModal();
      return true;
    }
    return false;
  }

  document.addEventListener("keyup", () => {
    if (!focusOnKeyUp) return;
    focusOnKeyUp.focus();
    focusOnKeyUp.select();
    focusOnKeyUp = null;
  });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (typing(target)) {
      if (e.key === "Escape") target.blur();
      return;
    }
    let handled = false;
    if (e.key === "?") handled = showHelp();
    else handled = onCasePage(e) || onQueue(e);
    if (handled) e.preventDefault();
  });
})();
