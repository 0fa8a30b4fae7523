/* Overturn: keyboard shortcuts and htmx glue. Vanilla JS, no dependencies besides htmx.
 *
 * Keys built in:  ?  help   /  search   j / k  next / previous row   Enter  open row
 * Pages add keys with  Overturn.keys.register("a", "Assign to me", handler)
 * from a script that runs after this one (a deferred script, or inside a
 * DOMContentLoaded listener: deferred scripts run before DOMContentLoaded fires).
 *
 * Markup this file reads:
 *   [data-search]            the field "/" focuses (the first one on the page)
 *   table[data-rows]         the worklist table j/k walk (the first one on the page)
 *   tr[data-row="<id>"]      a row; the id keeps the cursor on the same row across htmx swaps
 *   [data-open] inside a row the link Enter (or a click on the row) follows; give it hx-get
 *                            as well as href so htmx swaps the detail pane and the page still
 *                            works without JavaScript
 *   [autofocus] in swapped   receives focus once htmx has settled the swap
 *   content
 */
(function () {
  "use strict";

  var keys = new Map(); // key -> { description, handler }
  var currentRowId = null;
  var helpDialog = null;

  // ---------------------------------------------------------------- registry
  function register(key, description, handler) {
    if (typeof key !== "string" || !key) throw new TypeError("Overturn.keys.register: key must be a non-empty string");
    if (typeof handler !== "function") throw new TypeError("Overturn.keys.register: handler must be a function");
    keys.set(key, { description: String(description || key), handler: handler });
    if (helpDialog && helpDialog.open) renderHelp();
  }

  function unregister(key) {
    keys.delete(key);
  }

  function list() {
    return Array.from(keys, function (entry) {
      return { key: entry[0], description: entry[1].description };
    });
  }

  // Typing in a field must never trigger a shortcut.
  function isTyping(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      var type = (el.getAttribute("type") || "text").toLowerCase();
      return ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"].indexOf(type) === -1;
    }
    return false;
  }

  function isInteractive(el) {
    return !!(el && el.closest && el.closest("a[href], button, summary, [role='button'], [role='link'], input, select, textarea, label"));
  }

  function onKeydown(event) {
    if (event.defaultPrevented || event.isComposing) return;
    // Shift is allowed: "?" needs it on most layouts. Any other modifier means a browser
    // or OS shortcut, which we leave alone.
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;

    // While a modal dialog is open only its own keys apply ("?" still closes ours).
    var openModal = document.querySelector("dialog[open]");
    if (openModal && !(openModal === helpDialog && event.key === "?")) return;

    var entry = keys.get(event.key);
    if (!entry) return;
    // Enter on a link or button keeps its native meaning.
    if (event.key === "Enter" && isInteractive(event.target)) return;
    event.preventDefault();
    entry.handler(event);
  }

  // ---------------------------------------------------------------- help dialog
  function buildHelp() {
    var dialog = document.createElement("dialog");
    dialog.className = "kbd-help";
    dialog.id = "kbd-help";
    dialog.setAttribute("aria-labelledby", "kbd-help-title");
    dialog.innerHTML =
      '<header><h2 id="kbd-help-title">Keyboard shortcuts</h2>' +
      '<form method="dialog"><button type="submit" class="btn btn-small">Close <kbd>Esc</kbd></button></form>' +
      "</header><dl></dl>";
    // A click on the backdrop lands on the dialog element itself.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function renderHelp() {
    var dl = helpDialog.querySelector("dl");
    dl.textContent = "";
    keys.forEach(function (entry, key) {
      var dt = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = key;
      dt.appendChild(kbd);
      var dd = document.createElement("dd");
      dd.textContent = entry.description;
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
  }

  function toggleHelp() {
    if (!helpDialog || !helpDialog.isConnected) helpDialog = buildHelp();
    if (helpDialog.open) {
      helpDialog.close();
      return;
    }
    renderHelp();
    helpDialog.showModal();
  }

  // ---------------------------------------------------------------- rows
  function rowsTable() {
    return document.querySelector("[data-rows]");
  }

  function rows() {
    var table = rowsTable();
    return table ? Array.prototype.slice.call(table.querySelectorAll("[data-row]")) : [];
  }

  function currentRow() {
    var table = rowsTable();
    return table ? table.querySelector("[data-row].is-current") : null;
  }

  function markCurrent(row) {
    rows().forEach(function (r) {
      if (r !== row) {
        r.classList.remove("is-current");
        r.removeAttribute("aria-current");
      }
    });
    if (!row) return;
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    currentRowId = row.getAttribute("data-row");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(delta) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(currentRow());
    if (index === -1) {
      // No cursor yet: start at the row that is open in the detail pane, else at the top.
      var open = all.filter(function (r) { return r.classList.contains("is-open"); })[0];
      index = open ? all.indexOf(open) : (delta > 0 ? -1 : all.length);
    }
    var next = Math.max(0, Math.min(all.length - 1, index + delta));
    markCurrent(all[next]);
  }

  function openRow(row) {
    row = row || currentRow();
    if (!row) return;
    var link = row.querySelector("[data-open]");
    if (!link) return;
    rows().forEach(function (r) { r.classList.toggle("is-open", r === row); });
    markCurrent(row);
    // click(), not location: htmx intercepts the click when the link has hx-get.
    link.click();
  }

  // A click anywhere on a row (outside its own links and controls) opens it.
  function onClick(event) {
    if (event.target.closest && event.target.closest("[data-kbd-help]")) {
      toggleHelp();
      return;
    }
    var row = event.target.closest && event.target.closest("[data-rows] [data-row]");
    if (!row) return;
    if (isInteractive(event.target)) {
      if (event.target.closest("[data-open]")) {
        rows().forEach(function (r) { r.classList.toggle("is-open", r === row); });
        markCurrent(row);
      }
      return;
    }
    if (window.getSelection && String(window.getSelection()).length) return; // selecting text, not opening
    openRow(row);
  }

  // After htmx replaces the rows (filter, next page), keep the cursor on the same row if it is still there.
  function restoreCursor() {
    var table = rowsTable();
    if (!table || currentRowId === null || currentRow()) return;
    var row = table.querySelector('[data-row="' + cssEscape(currentRowId) + '"]');
    if (row) {
      row.classList.add("is-current");
      row.setAttribute("aria-current", "true");
    }
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&");
  }

  // ---------------------------------------------------------------- search
  function focusSearch() {
    var field = document.querySelector("[data-search]");
    if (!field) return;
    field.focus();
    if (typeof field.select === "function") field.select();
  }

  // ---------------------------------------------------------------- htmx glue
  // htmx focuses [autofocus] only in the top-level nodes it inserts; this also covers
  // outerHTML and out-of-band swaps, and skips fields the user cannot reach.
  function focusAutofocus(event) {
    var root = event.target;
    if (!root || !root.isConnected || !root.querySelector) return;
    var el = root.matches("[autofocus]") ? root : root.querySelector("[autofocus]");
    if (!el || el.disabled || el === document.activeElement) return;
    if (el.offsetParent === null && getComputedStyle(el).position !== "fixed") return; // hidden
    el.focus();
  }

  // ---------------------------------------------------------------- wiring
  register("?", "Show or hide this list of keys", toggleHelp);
  register("/", "Search", focusSearch);
  register("j", "Next row", function () { move(1); });
  register("k", "Previous row", function () { move(-1); });
  register("Enter", "Open the selected row", function () { openRow(); });

  document.addEventListener("keydown", onKeydown);
  document.addEventListener("click", onClick);
  document.addEventListener("htmx:afterSettle", function (event) {
    restoreCursor();
    focusAutofocus(event);
  });

  window.Overturn = window.Overturn || {};
  window.Overturn.keys = { register: register, unregister: unregister, list: list };
  window.Overturn.rows = { move: move, open: openRow, current: currentRow };
  window.Overturn.toggleHelp = toggleHelp;
})();
