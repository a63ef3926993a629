/* Kehu — small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  var HIDDEN_KEY = "kehu.customers.hiddenColumns";
  // Hidden columns are rules in a constructed style sheet: the CSP refuses inline <style>
  // elements, not the CSSOM.
  var columnSheet = new CSSStyleSheet();
  document.adoptedStyleSheets = document.adoptedStyleSheets.concat([columnSheet]);

  // --- column chooser: which list columns are hidden, remembered per browser ---------
  function storedHidden() {
    try {
      var raw = window.localStorage.getItem(HIDDEN_KEY);
      return raw === null ? null : JSON.parse(raw);
    } catch (e) { return null; }
  }
  function hiddenColumns() {
    var stored = storedHidden();
    if (stored) return stored;
    var table = document.getElementById("customer-table");
    var defaults = table ? table.getAttribute("data-default-hidden") : "";
    return (defaults || "").split(" ").filter(Boolean);
  }
  function applyColumns(hidden) {
    columnSheet.replaceSync(hidden.map(function (key) {
      return "#customer-table .col-" + CSS.escape(key) + "{display:none}";
    }).join("\n"));
    document.querySelectorAll("[data-column-menu] input[data-col]").forEach(function (box) {
      box.checked = hidden.indexOf(box.getAttribute("data-col")) === -1;
    });
  }
  // Applied before the body renders when a choice is stored, so nothing flickers.
  var early = storedHidden();
  if (early) applyColumns(early);

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches("[data-column-menu] input[data-col]")) {
      var hidden = [];
      document.querySelectorAll("[data-column-menu] input[data-col]").forEach(function (b) {
        if (!b.checked) hidden.push(b.getAttribute("data-col"));
      });
      try { window.localStorage.setItem(HIDDEN_KEY, JSON.stringify(hidden)); } catch (e) { /* private mode */ }
      applyColumns(hidden);
    }
    if (box.matches("[data-check-all]")) {
      document.querySelectorAll("#customer-table input[name=ids]").forEach(function (b) { b.checked = box.checked; });
    }
    if (box.matches("input[name=ids], [data-check-all]")) updateBulk();
    if (box.matches("[data-kind-form] input[name=kind]")) updateKind(box.form);
  });

  // --- bulk selection -------------------------------------------------------------------
  function updateBulk() {
    var counter = document.querySelector("[data-bulk-count]");
    if (!counter) return;
    var n = document.querySelectorAll("#customer-table input[name=ids]:checked").length;
    counter.textContent = n ? counter.getAttribute("data-template").replace("{n}", n) : "";
  }

  // --- person / company fields on the customer form --------------------------------------
  function updateKind(form) {
    if (!form) return;
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "";
    form.querySelectorAll("[data-kind-only]").forEach(function (field) {
      var hasValue = Array.prototype.some.call(field.querySelectorAll("input, select, textarea"), function (el) {
        return el.value && el.type !== "checkbox" && el.type !== "radio";
      });
      var hasError = field.querySelector(".field-errors p");
      // Never hide a field that holds a value or an error: the user must see what is sent.
      field.hidden = kind !== "" && field.getAttribute("data-kind-only") !== kind && !hasValue && !hasError;
    });
  }

  // --- confirmation before destructive or far-reaching actions ------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (form.matches("[data-bulk]") && !document.querySelector("#customer-table input[name=ids]:checked")) {
      event.preventDefault();
      return;
    }
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // --- keyboard -----------------------------------------------------------------------
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#customer-table tbody tr[data-row]")); }
  function moveRow(step) {
    var all = rows();
    if (!all.length) return;
    var current = all.findIndex(function (r) { return r.classList.contains("is-active"); });
    var next = Math.max(0, Math.min(all.length - 1, current + step));
    if (current === -1) next = step > 0 ? 0 : all.length - 1;
    all.forEach(function (r) { r.classList.remove("is-active"); });
    all[next].classList.add("is-active");
    all[next].scrollIntoView({ block: "nearest" });
    var link = all[next].querySelector("[data-row-link]");
    if (link) link.focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
      if (typing(document.activeElement) && /^(global-)?q$/.test(document.activeElement.id)) document.activeElement.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var search = document.getElementById("q") || document.getElementById("global-q");
    if (event.key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "j" || (event.key === "ArrowDown" && rows().length && document.activeElement.closest("#customer-table"))) {
      event.preventDefault();
      moveRow(1);
    } else if (event.key === "k" || (event.key === "ArrowUp" && rows().length && document.activeElement.closest("#customer-table"))) {
      event.preventDefault();
      moveRow(-1);
    } else if (event.key === "x") {
      var active = document.querySelector("#customer-table tr.is-active input[name=ids]");
      if (active) { active.checked = !active.checked; updateBulk(); }
    } else {
      var shortcut = document.querySelector('[data-shortcut="' + event.key.toLowerCase() + '"]');
      if (shortcut && event.key.length === 1) {
        event.preventDefault();
        shortcut.click();
      }
    }
  });

  // Close an open menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.open = false;
    });
  });

  // On a phone the top bar's links (and the settings menu) scroll sideways: bring the current
  // one into view, so 设置 is not hidden off the right edge while its pages are open.
  function revealCurrent() {
    document.querySelectorAll(".nav, .settings-menu").forEach(function (bar) {
      var link = bar.querySelector('[aria-current="page"]');
      if (link && bar.scrollWidth > bar.clientWidth) {
        bar.scrollLeft = link.offsetLeft - bar.offsetLeft - (bar.clientWidth - link.offsetWidth) / 2;
      }
    });
  }

  function init() {
    applyColumns(hiddenColumns());
    updateBulk();
    document.querySelectorAll("[data-kind-form]").forEach(updateKind);
    revealCurrent();
  }
  document.addEventListener("DOMContentLoaded", init);
  // After HTMX swaps the table in, re-apply the column choice and the selection count.
  // Polling only while the tab is seen (instead of an htmx trigger filter, which htmx runs
  // through eval: the CSP allows no eval).
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute("data-poll-when-visible") && document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    applyColumns(hiddenColumns());
    updateBulk();
  });
})();
