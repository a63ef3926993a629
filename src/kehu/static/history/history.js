/* The customer's history: keyboard shortcuts of the quick log form and the kanban's drag and drop.
 * No framework: native HTML5 drag and drop, fetch with the CSRF token, HTMX for the rest. */
(function () {
  "use strict";

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) &&
      !(el.tagName === "INPUT" && el.type === "radio");
  }

  // Number keys 1–6 pick the channel while focus is in the log form but not in a text field;
  // Ctrl/Cmd+Enter saves from anywhere in the form.
  document.addEventListener("keydown", function (event) {
    const form = event.target.closest && event.target.closest(".h-log");
    if (!form) return;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const radios = form.querySelectorAll("[data-channel-keys] input[type=radio]");
    const index = Number.parseInt(event.key, 10) - 1;
    if (index >= 0 && index < radios.length) {
      event.preventDefault();
      radios[index].checked = true;
      radios[index].focus();
    }
  });

  function csrfToken() {
    const input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function column(el) {
    return el && el.closest ? el.closest("[data-stage]") : null;
  }

  function clearTargets(board) {
    board.querySelectorAll(".is-drop-target").forEach(function (c) { c.classList.remove("is-drop-target"); });
  }

  // The server answers with the board's columns as they are now in the database, so what
  // the rep sees after a drop is what was saved (or the message saying why not).
  async function move(board, card, target) {
    const columns = board.querySelector("[data-board-columns]");
    const body = new FormData();
    body.append("stage", target.dataset.stage);
    body.append("version", card.dataset.version);
    target.querySelector("ul").prepend(card);
    card.classList.add("is-saving");
    const response = await fetch(card.dataset.moveUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
    });
    columns.innerHTML = await response.text();
    board.dispatchEvent(new CustomEvent("history:moved", { bubbles: true, detail: { ok: response.ok } }));
  }

  function initBoard(board) {
    let dragged = null;
    board.addEventListener("dragstart", function (event) {
      dragged = event.target.closest && event.target.closest("[data-opportunity]");
      if (!dragged) return;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.opportunity);
      dragged.classList.add("is-dragging");
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("is-dragging");
      dragged = null;
      clearTargets(board);
    });
    board.addEventListener("dragover", function (event) {
      const target = column(event.target);
      if (!target || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      clearTargets(board);
      target.classList.add("is-drop-target");
    });
    board.addEventListener("drop", function (event) {
      const target = column(event.target);
      if (!target || !dragged) return;
      event.preventDefault();
      clearTargets(board);
      if (column(dragged) !== target) move(board, dragged, target);
    });
  }

  function init() {
    document.querySelectorAll("[data-board]").forEach(initBoard);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
