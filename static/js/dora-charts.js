/* The DORA page's charts, drawn with the vendored Chart.js from the JSON script element the
   page renders: deployments per month, lead and recovery times against the elite and high
   bounds, and the failure and rework rates against the band bounds. */
(function () {
  "use strict";

  // The page sends each bound's value and label (toil.dora's bands); only colours are here.
  var BAND_COLOURS = { elite: "#2e7d32", high: "#8a94a6", medium: "#f0a30a" };

  function bounds(lines, count) {
    return lines.map(function (line, index) {
      var data = [];
      for (var i = 0; i < count; i++) data.push(line.value);
      // Two lines of one band (elite lead time and elite recovery) must still look apart.
      var colour = index > 0 && lines[index - 1].band === line.band ? "#8a94a6" : BAND_COLOURS[line.band];
      return { type: "line", label: line.label, data: data, borderColor: colour, borderDash: [6, 4], pointRadius: 0, fill: false };
    });
  }

  function draw() {
    var source = document.getElementById("dora-chart-data");
    if (!source || !window.Chart) return;
    var chart = JSON.parse(source.textContent);
    var n = chart.months.length;
    var common = { animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false } };

    new window.Chart(document.getElementById("dora-deployments"), {
      type: "bar",
      data: {
        labels: chart.months,
        datasets: [
          { label: "Successful", data: chart.deployments, backgroundColor: "#2e7d32" },
          { label: "Failed or caused an incident", data: chart.failures, backgroundColor: "#d4351c" },
        ],
      },
      options: Object.assign({}, common, {
        scales: { x: { title: { display: true, text: "Month" } }, y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Deployments" } } },
      }),
    });

    new window.Chart(document.getElementById("dora-times"), {
      type: "line",
      data: {
        labels: chart.months,
        datasets: [
          { label: "Lead time (median)", data: chart.lead_time_hours, borderColor: "#1d70b8", spanGaps: true },
          { label: "Recovery time (median)", data: chart.recovery_hours, borderColor: "#f0a30a", spanGaps: true },
        ].concat(bounds(chart.time_bounds, n)),
      },
      options: Object.assign({}, common, {
        scales: { x: { title: { display: true, text: "Month" } }, y: { beginAtZero: true, title: { display: true, text: "Hours" } } },
      }),
    });

    new window.Chart(document.getElementById("dora-rates"), {
      type: "line",
      data: {
        labels: chart.months,
        datasets: [
          { label: "Change failure rate", data: chart.change_failure_percent, borderColor: "#d4351c", spanGaps: true },
          { label: "Rework rate", data: chart.rework_percent, borderColor: "#6f42c1", spanGaps: true },
        ].concat(bounds(chart.rate_bounds, n)),
      },
      options: Object.assign({}, common, {
        scales: { x: { title: { display: true, text: "Month" } }, y: { min: 0, suggestedMax: 30, title: { display: true, text: "Percent" } } },
      }),
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
