/* The DORA page's charts, drawn with the vendored Chart.js from the JSON script element the
   page renders: deployments per month, lead and recovery times against the elite and high
   bounds, and the failure and rework rates against the band bounds. */
(function () {
  "use strict";

  function bound(value, label, colour, count) {
    var data = [];
    for (var i = 0; i < count; i++) data.push(value);
    return { type: "line", label: label, data: data, borderColor: colour, borderDash: [6, 4], pointRadius: 0, fill: false };
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
          bound(chart.lead_time_bounds.elite, "Elite lead time: under a day", "#2e7d32", n),
          bound(chart.recovery_bounds.elite, "Elite recovery: under an hour", "#8a94a6", n),
        ],
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
          bound(chart.change_failure_bounds.elite, "Elite: 5 %", "#2e7d32", n),
          bound(chart.change_failure_bounds.medium, "Medium: 15 %", "#f0a30a", n),
        ],
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
