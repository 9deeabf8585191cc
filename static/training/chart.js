// Line charts for the training pages, drawn as SVG from a JSON data block that the
// page embeds with json_script: [{"date": "2026-01-31", "value": 81.2}, ...].
// Our own few lines instead of a charting library; the page also carries the same
// numbers as a table.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 320, H = 180, PAD = { top: 12, right: 12, bottom: 28, left: 44 };

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceRange(min, max) {
    if (min === max) { min -= 1; max += 1; }
    var pad = (max - min) * 0.1;
    return [min - pad, max + pad];
  }

  function draw(container) {
    var source = document.getElementById(container.dataset.chart);
    if (!source) return;
    var points = JSON.parse(source.textContent);
    if (!points.length) return;
    var unit = container.dataset.unit || "";
    var times = points.map(function (p) { return Date.parse(p.date); });
    var values = points.map(function (p) { return p.value; });
    var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
    if (t0 === t1) { t0 -= 86400000; t1 += 86400000; }
    var range = niceRange(Math.min.apply(null, values), Math.max.apply(null, values));
    var x = function (t) { return PAD.left + (t - t0) / (t1 - t0) * (W - PAD.left - PAD.right); };
    var y = function (v) {
      return H - PAD.bottom - (v - range[0]) / (range[1] - range[0]) * (H - PAD.top - PAD.bottom);
    };
    var svg = el("svg", {
      viewBox: "0 0 " + W + " " + H, width: "100%", class: "chart-svg", "aria-hidden": "true",
      focusable: "false",
    });
    // Axes with the lowest, middle and highest values and the first and last dates.
    svg.appendChild(el("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "chart-axis" }));
    svg.appendChild(el("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "chart-axis" }));
    [range[0], (range[0] + range[1]) / 2, range[1]].forEach(function (v) {
      svg.appendChild(el("text", { x: PAD.left - 4, y: y(v) + 4, "text-anchor": "end", class: "chart-label" }, v.toFixed(1)));
      svg.appendChild(el("line", { x1: PAD.left, y1: y(v), x2: W - PAD.right, y2: y(v), class: "chart-grid" }));
    });
    svg.appendChild(el("text", { x: PAD.left, y: H - 8, class: "chart-label" }, points[0].date));
    svg.appendChild(el("text", { x: W - PAD.right, y: H - 8, "text-anchor": "end", class: "chart-label" }, points[points.length - 1].date));
    var path = points.map(function (p, i) { return (i ? "L" : "M") + x(times[i]).toFixed(1) + " " + y(p.value).toFixed(1); }).join(" ");
    svg.appendChild(el("path", { d: path, class: "chart-line" }));
    points.forEach(function (p, i) {
      var dot = el("circle", { cx: x(times[i]), cy: y(p.value), r: 2.5, class: "chart-dot" });
      dot.appendChild(el("title", {}, p.date + ": " + p.value + (unit ? " " + unit : "")));
      svg.appendChild(dot);
    });
    container.appendChild(svg);
    var last = points[points.length - 1], first = points[0];
    var change = (last.value - first.value);
    var summary = document.createElement("p");
    summary.className = "chart-summary";
    summary.textContent = last.value + (unit ? " " + unit : "") + " (" + (change >= 0 ? "+" : "") + change.toFixed(1) + ")";
    container.appendChild(summary);
    container.dataset.drawn = "true";
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
