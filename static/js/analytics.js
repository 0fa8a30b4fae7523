/* Overturn dashboard: draws each chart from the JSON data block beside it with the vendored
 * Chart.js (static/vendor/chartjs). No inline script (the CSP forbids it): the page marks
 *   <canvas data-chart="<id of a <script type="application/json"> block>">
 * and the block holds { type, format: "money"|"rate"|"count", stacked, labels, datasets:
 * [{label, data}], links: [href per label, "" for none] } (a chart of several datasets may give
 * one such list per dataset). Clicking a bar or point with a link opens the rows behind it: the
 * same link as the table's number, which keyboard and screen-reader users follow there. The table beside each chart holds the
 * same figures, for screen readers and for anyone without JavaScript.
 */
(function () {
  "use strict";

  var PALETTE = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2", "#db2777", "#65a30d", "#475569", "#ca8a04"];

  function formatter(format) {
    if (format === "rate") {
      return function (v) { return v === null || v === undefined ? "—" : Math.round(Number(v) * 100) + "%"; };
    }
    if (format === "money") {
      var money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
      return function (v) { return money.format(Number(v)); };
    }
    return function (v) { return Number(v).toLocaleString("en-US"); };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") return;
    // Drawn already (htmx:load also fires for the page itself): one chart per canvas.
    if (window.Chart.getChart && window.Chart.getChart(canvas)) return;
    var spec;
    try { spec = JSON.parse(source.textContent); } catch (e) { return; }
    var format = formatter(spec.format);
    var links = spec.links || [];
    // The link of one bar: links[index], or links[dataset][index] when each dataset has its own.
    function linkOf(element) {
      var entry = links[element.datasetIndex];
      if (Array.isArray(entry)) return entry[element.index] || "";
      return typeof links[element.index] === "string" ? links[element.index] : "";
    }
    var datasets = (spec.datasets || []).map(function (d, i) {
      return {
        label: d.label,
        data: d.data.map(function (v) { return v === null ? null : Number(v); }),
        backgroundColor: PALETTE[i % PALETTE.length],
        borderWidth: 0
      };
    });
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 45 } },
          y: { stacked: !!spec.stacked, beginAtZero: true, max: spec.format === "rate" ? 1 : undefined,
            suggestedMax: spec.format === "rate" ? 1 : 10, ticks: { callback: format, precision: spec.format === "rate" ? 2 : 0 } }
        },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + format(ctx.parsed.y); } } }
        },
        onHover: function (event, elements) {
          var linked = elements.length && linkOf(elements[0]);
          event.native.target.style.cursor = linked ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (!elements.length) return;
          var href = linkOf(elements[0]);
          if (href) window.location.assign(href);
        }
      }
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
  // Sections the page loads in their own requests (htmx swaps them in): draw their charts.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt;
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("canvas[data-chart]")) draw(root);
    Array.prototype.forEach.call(root.querySelectorAll("canvas[data-chart]"), draw);
  });
})();
