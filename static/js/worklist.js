/* Overturn worklist and denial page: evidence selection, worklist keys, list refresh.
 *
 * Loaded after overturn.js (both deferred), on the worklist and the denial page.
 *
 * Evidence: a document's text is rendered in <pre class="doc-text" data-document-id="N">,
 * saved passages wrapped in <mark class="evidence">. The marks only wrap text, so the
 * element's textContent is the document text the server holds; a selection's offsets are
 * measured in it and sent as start/end with the selected words, which the server checks.
 * Offsets are counted in Unicode code points (Python string indexes), not UTF-16 units.
 *
 * Keys added here:  a assign to me   n next denial   o outcome   d documentation
 *                   e save evidence  x tick the row   ] / [ open next / previous row
 */
(function () {
  "use strict";

  var Overturn = window.Overturn;
  if (!Overturn || !Overturn.keys) return;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function pane() { return document.getElementById("denial-pane"); }

  function reveal(el) {
    if (!el) return;
    el.scrollIntoView({ block: "start", behavior: "auto" });
    el.focus({ preventScroll: true });
  }

  function clearFlash() {
    $all("#messages [data-flash]").forEach(function (el) { el.remove(); });
  }

  function flash(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    var div = document.createElement("div");
    div.setAttribute("data-flash", "");
    div.className = "alert alert-info";
    div.textContent = text;
    box.textContent = "";
    box.appendChild(div);
    window.setTimeout(function () { if (div.isConnected) div.remove(); }, 4000);
  }

  // ------------------------------------------------------------------ evidence offsets
  function codePoints(text) { return Array.from(text).length; }

  // UTF-16 offset of a boundary point (node, offset) in root's text.
  function textOffset(root, node, offset) {
    var range = document.createRange();
    range.selectNodeContents(root);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function selectionIn(root) {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    if (!range.intersectsNode(root)) return null;
    var full = root.textContent;
    var start = root.contains(range.startContainer) ? textOffset(root, range.startContainer, range.startOffset) : 0;
    var end = root.contains(range.endContainer) ? textOffset(root, range.endContainer, range.endOffset) : full.length;
    // Leave out the blank space a drag picks up at either end.
    while (start < end && /\s/.test(full.charAt(start))) start++;
    while (end > start && /\s/.test(full.charAt(end - 1))) end--;
    if (end <= start) return null;
    return {
      start: codePoints(full.slice(0, start)),
      end: codePoints(full.slice(0, end)),
      quote: full.slice(start, end),
    };
  }

  function documentOfSelection() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var node = selection.anchorNode;
    var el = node && (node.nodeType === 1 ? node : node.parentElement);
    return el && el.closest ? el.closest("pre.doc-text[data-document-id]") : null;
  }

  function evidenceForm(documentId) {
    return $('form[data-evidence-form][data-document-id="' + documentId + '"]');
  }

  // Copy the current selection into its document's evidence form. Returns the form, or null.
  function captureSelection() {
    var root = documentOfSelection();
    if (!root) return null;
    var picked = selectionIn(root);
    if (!picked) return null;
    var form = evidenceForm(root.getAttribute("data-document-id"));
    if (!form) return null;
    $("[data-evidence-start]", form).value = picked.start;
    $("[data-evidence-end]", form).value = picked.end;
    $("[data-evidence-quote]", form).value = picked.quote;
    form.classList.add("has-selection");
    return form;
  }

  var selectionTimer = null;
  document.addEventListener("selectionchange", function () {
    window.clearTimeout(selectionTimer);
    selectionTimer = window.setTimeout(captureSelection, 120);
  });

  // Typed or edited words: the server finds them in the text, so drop stale offsets.
  document.addEventListener("input", function (event) {
    var quote = event.target.closest && event.target.closest("[data-evidence-quote]");
    if (!quote) return;
    var form = quote.form;
    $("[data-evidence-start]", form).value = "";
    $("[data-evidence-end]", form).value = "";
  });

  // ------------------------------------------------------------------ worklist rows
  function openDenialId() {
    var article = $("#denial-pane article[data-denial-id]");
    return article ? article.getAttribute("data-denial-id") : null;
  }

  function markOpenRow() {
    var id = openDenialId();
    $all("[data-rows] [data-row]").forEach(function (row) {
      row.classList.toggle("is-open", id !== null && row.getAttribute("data-row") === id);
    });
  }

  function updateTickCount() {
    var count = $all('#bulk-form input[name="ids"]:checked').length;
    $all("[data-selected-count]").forEach(function (el) { el.textContent = String(count); });
    var bar = $(".bulk-bar");
    if (bar) bar.classList.toggle("has-ticks", count > 0);
  }

  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (all) {
      $all('#bulk-form input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
    }
    if (event.target.name === "ids" || all) updateTickCount();
  });

  // After a save the pane says "denialChanged": refresh the list (rows, counts) in place.
  document.body.addEventListener("denialChanged", function () {
    var rows = document.getElementById("worklist-rows");
    if (!rows || !window.htmx) return;
    var url = rows.getAttribute("data-list-url");
    var options = { target: "#worklist-list", swap: "outerHTML" };
    if (rows.hasAttribute("data-search-mode")) {
      var form = document.getElementById("wl-search-page");
      options.values = { search: form ? form.elements.search.value : "" };
      window.htmx.ajax("POST", url, options);
    } else {
      window.htmx.ajax("GET", url, options);
    }
  });

  // A pick list of the filters applies as soon as it changes (the form's only htmx trigger is
  // submit). Typed filters wait for Enter or Apply: applying them on "change" as well sent two
  // requests when the coder typed a CARC and clicked Apply (the blur fired "change" first).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field || field.tagName !== "SELECT" || !field.form || field.form.id !== "wl-filters") return;
    field.form.requestSubmit();
  });

  // Filters in the URL, but not the empty ones: ?queue=3&category=coding, not a wall of "&x=".
  // And Apply after a pick list already applied the same filters sends nothing (one request for
  // "choose a category, click Apply", not two): the filters last sent are remembered until the
  // list is fetched some other way (tab, sort, page, search, refresh) or the request fails.
  var lastFilters = null;

  function paramsQuery(params) {
    var pairs = [];
    if (params && typeof params.forEach === "function") {
      params.forEach(function (value, name) { pairs.push(name + "=" + value); });
    } else if (params) {
      Object.keys(params).forEach(function (name) { pairs.push(name + "=" + params[name]); });
    }
    return pairs.join("&");
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.id !== "wl-filters" || event.detail.verb !== "get") {
      if (elt && elt.closest && elt.closest("#worklist-list")) lastFilters = null;
      return;
    }
    var params = event.detail.parameters;
    var names = [];
    if (params && typeof params.forEach === "function" && typeof params.delete === "function") {
      params.forEach(function (value, name) { if (value === "") names.push(name); });
      names.forEach(function (name) { params.delete(name); });
    } else if (params) {
      Object.keys(params).forEach(function (name) { if (params[name] === "") delete params[name]; });
    }
    var query = paramsQuery(params);
    if (query === lastFilters) {
      event.preventDefault(); // the list already shows these filters
      return;
    }
    lastFilters = query;
  });

  function forgetFilters(event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "wl-filters") lastFilters = null;
  }
  document.addEventListener("htmx:responseError", forgetFilters);
  document.addEventListener("htmx:sendError", forgetFilters);
  // After Back/reload or a refresh that swapped the whole list, start afresh.
  document.body.addEventListener("denialChanged", function () { lastFilters = null; });

  // ------------------------------------------------------------------ history
  // On the worklist an open denial is remembered in the worklist's own URL (?denial=N, next to
  // the filters), never as the stand-alone /denials/N/ the pane was fetched from: Back, Forward
  // and reload then land on both panes (the worklist view renders the pane from ?denial=N).
  // htmx keeps no copy of pages (historyCacheSize 0), so going back reloads that URL.
  var DENIAL_PATH = /^\/denials\/(\d+)\/$/;

  function worklistUrl(denialId, base) {
    var url = new URL(base || window.location.href, window.location.href);
    if (denialId) url.searchParams.set("denial", denialId);
    else url.searchParams.delete("denial");
    return url.pathname + url.search;
  }

  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var filters = document.getElementById("wl-filters");
    var history = event.detail && event.detail.history;
    if (!filters || !history || !history.path) return;
    var path = new URL(history.path, window.location.href);
    var opened = DENIAL_PATH.exec(path.pathname);
    if (opened) {
      history.path = worklistUrl(opened[1]); // the filters in force, and this denial
    } else if (path.pathname === filters.getAttribute("action")) {
      history.path = worklistUrl(openDenialId(), history.path); // new filters, same denial open
    }
  });

  var focusPaneHeading = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    focusPaneHeading = !!(elt && elt.closest && (elt.closest("[data-open]") || elt.id === "wl-next"));
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target || event.target;
    if (target && target.id === "denial-pane") {
      clearFlash();
      markOpenRow();
      if (focusPaneHeading) {
        var heading = document.getElementById("denial-h");
        if (heading) heading.focus({ preventScroll: true });
      }
      focusPaneHeading = false;
    } else if (target && (target.id === "worklist-list" || target.id === "worklist-rows" || target.closest && target.closest("#worklist-list"))) {
      markOpenRow();
      updateTickCount();
    }
  });

  // ------------------------------------------------------------------ keys
  function clickIn(selector) {
    var el = $(selector);
    if (el) {
      el.click();
      return true;
    }
    return false;
  }

  Overturn.keys.register("a", "Assign the open denial to me", function () {
    if (!clickIn("#denial-pane [data-key-assign]")) flash(openDenialId() ? "This denial is already yours." : "Open a denial first (Enter).");
  });

  Overturn.keys.register("n", "Take the next denial (highest priority, unassigned)", function () {
    if (!clickIn("[data-key-next]")) flash("Go to the worklist to take the next denial.");
  });

  Overturn.keys.register("o", "Mark the outcome", function () {
    var form = $("#denial-pane #outcome-form");
    if (!form) return flash("Open a denial first (Enter).");
    var radio = $('input[name="action"]:checked', form) || $('input[name="action"]', form);
    form.closest("section").scrollIntoView({ block: "start" });
    if (radio) radio.focus({ preventScroll: true });
  });

  Overturn.keys.register("d", "Open the documentation", function () {
    var section = $("#denial-pane #sec-docs");
    if (!section) return flash("Open a denial first (Enter).");
    section.scrollIntoView({ block: "start" });
    var target = $("pre.doc-text", section) || $("[data-doc-upload]", section);
    if (target) target.focus({ preventScroll: true });
  });

  // The kind a passage is saved with when "e" saves it in one step: the one the coder picked in
  // the form beside the document, else the one that matches the X-modifier ticked in the outcome
  // form (kind options carry data-modifier="XS"...), else the form's own default. Shown in the
  // form before the save and in the saved list after it.
  function contextKind(form) {
    var kind = $("[data-evidence-kind]", form);
    if (!kind || kind.hasAttribute("data-chosen")) return;
    var modifier = $('#denial-pane #outcome-form input[name="modifier"]:checked');
    var wanted = modifier && modifier.value;
    if (!wanted) return;
    var match = $all("option[data-modifier]", kind).filter(function (o) { return o.getAttribute("data-modifier") === wanted; })[0];
    if (match) kind.value = match.value;
  }

  document.addEventListener("change", function (event) {
    var kind = event.target.closest && event.target.closest("[data-evidence-kind]");
    if (kind) kind.setAttribute("data-chosen", "");
  });

  Overturn.keys.register("e", "Save the selected passage as evidence", function () {
    // One step: select words in the document, press e, saved (with the kind shown beside it).
    var form = captureSelection();
    if (form) {
      contextKind(form);
      form.requestSubmit();
      return;
    }
    var first = $("#denial-pane form[data-evidence-form]");
    if (!first) {
      var upload = $("#denial-pane [data-doc-upload]");
      if (upload) reveal(upload.closest(".upload-doc"));
      if (upload) upload.focus({ preventScroll: true });
      return flash(upload ? "Attach a document first." : "Open a denial first (Enter).");
    }
    var quote = $("[data-evidence-quote]", first);
    if (quote.value.trim()) {
      // Words typed (or a selection made earlier) in the passage field: save them the same way.
      contextKind(first);
      first.requestSubmit();
    } else {
      first.scrollIntoView({ block: "center" });
      quote.focus({ preventScroll: true });
      flash("Select words in the note, or type them here, then press e.");
    }
  });

  Overturn.keys.register("x", "Tick or untick the current row", function () {
    var row = Overturn.rows.current();
    var box = row && $('input[name="ids"]', row);
    if (!box) return;
    box.checked = !box.checked;
    updateTickCount();
  });

  Overturn.keys.register("]", "Open the next row", function () { Overturn.rows.move(1); Overturn.rows.open(); });
  Overturn.keys.register("[", "Open the previous row", function () { Overturn.rows.move(-1); Overturn.rows.open(); });

  // Enter in a select of the evidence form saves it (keyboard flow: select, e, arrows, Enter).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var kind = event.target.closest && event.target.closest("[data-evidence-kind]");
    if (!kind) return;
    event.preventDefault();
    kind.form.requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    markOpenRow();
    updateTickCount();
  });
})();
