/* Charts of the SLO page, drawn with the vendored Chart.js from the status snapshot's series
   (a JSON script element next to the canvases). htmx.onLoad runs on the first load and again
   on the status block htmx swaps in every minute, so the charts follow the refresh. */
(function () {
  "use strict";

  var SERIES = {
    budget: { label: "Budget remaining", percent: true, colour: "#1f5fbf" },
    burn_1h: { label: "1h burn rate", percent: false, colour: "#b42318" },
  };

  function timeLabel(iso) {
    return new Date(iso).toLocaleString(undefined, {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  function draw(canvas, series) {
    var spec = SERIES[canvas.dataset.sloChart];
    var points = (series && series[canvas.dataset.sloChart]) || [];
    var existing = window.Chart.getChart(canvas);
    if (existing) existing.destroy();
    if (!spec || points.length === 0) {
      canvas.replaceWith(Object.assign(document.createElement("p"), {
        className: "muted", textContent: "No data for this chart yet.",
      }));
      return;
    }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: points.map(function (point) { return timeLabel(point[0]); }),
        datasets: [{
          label: spec.label,
          // Gaps stay gaps: a missing figure is no data, not zero.
          data: points.map(function (point) {
            return point[1] === null ? null : (spec.percent ? point[1] * 100 : point[1]);
          }),
          borderColor: spec.colour,
          pointRadius: 0,
          borderWidth: 2,
          spanGaps: false,
        }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { maxTicksLimit: 8 } },
          y: { ticks: { callback: function (value) { return spec.percent ? value + " %" : value + "x"; } } },
        },
      },
    });
  }

  function drawWithin(root) {
    if (!window.Chart) return;
    var canvases = root.querySelectorAll ? root.querySelectorAll("canvas[data-slo-chart]") : [];
    if (canvases.length === 0) return;
    var source = document.getElementById("slo-series");
    var series = source ? JSON.parse(source.textContent) : {};
    canvases.forEach(function (canvas) { draw(canvas, series); });
  }

  if (window.htmx) {
    window.htmx.onLoad(drawWithin);
  } else {
    drawWithin(document);
  }
})();
