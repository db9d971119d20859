/* The incident metrics page's chart: incidents per month, stacked by severity, drawn with the
   vendored Chart.js from the JSON script element the page renders next to the canvas. */
(function () {
  "use strict";

  var COLOURS = { SEV1: "#8a1c12", SEV2: "#d4351c", SEV3: "#f0a30a", SEV4: "#8a94a6" };

  function draw() {
    var canvas = document.getElementById("incidents-by-month");
    var source = document.getElementById("incident-chart-data");
    if (!canvas || !source || !window.Chart) return;
    var chart = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.months,
        datasets: chart.severities.map(function (severity) {
          return { label: severity, data: chart.counts[severity], backgroundColor: COLOURS[severity] };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
