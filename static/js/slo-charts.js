/* Charts of the SLO page, drawn with the vendored Chart.js from the status snapshot's series
   (a JSON script element next to the canvases). htmx.onLoad runs on the first load and again
   on the status block htmx swaps in every minute, so the charts follow the refresh.

   Honest by construction: the budget's axis runs from 0 to 100 % (down to the overspend when
   there is one), the burn rate's from 0 to above the highest alerting threshold, so neither
   magnifies noise; a day or hour without data is a gap, not a full budget or a zero rate; the
   reference lines (budget exhausted, the alerting thresholds) say what the line means. */
(function () {
  "use strict";

  var SERIES = {
    budget: { label: "Budget remaining", percent: true, colour: "#1f5fbf" },
    burn_1h: { label: "1h burn rate", percent: false, colour: "#b42318" },
  };
  var REFERENCE_COLOURS = ["#8a1c12", "#b42318", "#b7791f", "#5b6475"];

  // The portal's one time format: day, month, 24-hour time, in the viewer's zone.
  var TIME = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });

  function percentText(value) { return value.toFixed(1) + " %"; }
  function multipleText(value) { return value.toFixed(2) + "×"; }
  function tickText(value, percent) {
    // Ticks are round numbers; no float noise such as 0.47000000000000003.
    return percent ? Math.round(value) + " %" : Number(value.toFixed(1)) + "×";
  }

  function referenceLine(label, value, length, colour) {
    var values = [];
    for (var index = 0; index < length; index += 1) values.push(value);
    return {
      label: label, data: values, reference: true, borderColor: colour, borderWidth: 1,
      borderDash: [6, 4], pointRadius: 0, pointHitRadius: 0,
    };
  }

  function draw(canvas, series, context) {
    var key = canvas.dataset.sloChart;
    var spec = SERIES[key];
    var points = (series && series[key]) || [];
    var existing = window.Chart.getChart(canvas);
    if (existing) existing.destroy();
    if (!spec || points.length === 0) {
      canvas.replaceWith(Object.assign(document.createElement("p"), {
        className: "muted", textContent: "No data for this chart yet.",
      }));
      return;
    }
    var values = points.map(function (point) {
      return point[1] === null ? null : (spec.percent ? point[1] * 100 : point[1]);
    });
    var known = values.filter(function (value) { return value !== null; });
    var lowest = known.length ? Math.min.apply(null, known) : 0;
    var highest = known.length ? Math.max.apply(null, known) : 0;
    var datasets = [{
      label: spec.label,
      data: values,
      borderColor: spec.colour,
      pointRadius: 0,
      pointHitRadius: 6,
      borderWidth: 2,
      // Gaps stay gaps: a missing figure is no data, not zero and not 100 %.
      spanGaps: false,
    }];
    var y;
    if (spec.percent) {
      datasets.push(referenceLine(
        "Budget exhausted (attainment at the " + context.objective + " objective)",
        0, values.length, REFERENCE_COLOURS[0]));
      y = { min: Math.min(0, Math.floor(lowest / 10) * 10), max: 100 };
    } else {
      var top = 1;
      context.thresholds.forEach(function (threshold, index) {
        top = Math.max(top, threshold.value);
        datasets.push(referenceLine(
          multipleText(threshold.value) + " " + threshold.label, threshold.value, values.length,
          REFERENCE_COLOURS[Math.min(index, REFERENCE_COLOURS.length - 1)]));
      });
      y = { min: 0, max: Math.ceil(Math.max(top * 1.1, highest * 1.1)) };
    }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: points.map(function (point) { return TIME.format(new Date(point[0])); }),
        datasets: datasets,
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxHeight: 1, font: { size: 11 } } },
          tooltip: {
            filter: function (item) { return !item.dataset.reference; },
            callbacks: {
              label: function (item) {
                if (item.raw === null) return spec.label + ": no data";
                return spec.label + ": " + (spec.percent ? percentText(item.raw) : multipleText(item.raw));
              },
            },
          },
        },
        scales: {
          x: { ticks: { maxTicksLimit: 6, maxRotation: 0 } },
          y: {
            min: y.min,
            max: y.max,
            title: { display: true, text: spec.percent ? "budget remaining" : "burn rate" },
            ticks: { callback: function (value) { return tickText(value, spec.percent); } },
          },
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
    var contextSource = document.getElementById("slo-chart-context");
    var context = contextSource ? JSON.parse(contextSource.textContent) : { objective: "", thresholds: [] };
    canvases.forEach(function (canvas) { draw(canvas, series, context); });
  }

  if (window.htmx) {
    window.htmx.onLoad(drawWithin);
  } else {
    drawWithin(document);
  }
})();
