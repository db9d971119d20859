/* The scorecard pages' charts, drawn with the vendored Chart.js from the JSON script elements
   the page renders: each team's services per level (stacked bars) and the weekly average score
   (a line on a fixed 0-100 axis). Tables on the page carry the same figures. */
(function () {
  "use strict";

  // Lowest level first: from "none" (grey) through bronze, silver and gold tones.
  var LEVEL_COLOURS = ["#b8c0cc", "#b26b2b", "#8a94a6", "#d4a514", "#2f7d4f", "#1f5fbf"];

  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function drawLevels() {
    var canvas = document.getElementById("scorecard-levels");
    var chart = data("scorecard-levels-data");
    if (!canvas || !chart || !window.Chart) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.teams,
        datasets: chart.levels.map(function (level, index) {
          return { label: level, data: chart.counts[index], backgroundColor: LEVEL_COLOURS[index % LEVEL_COLOURS.length] };
        }),
      },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        plugins: { tooltip: { mode: "index" } },
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Services" } },
          y: { stacked: true, title: { display: true, text: "Team" } },
        },
      },
    });
  }

  function drawTrend() {
    var canvas = document.getElementById("scorecard-trend");
    var trend = data("scorecard-trend-data");
    if (!canvas || !trend || !window.Chart || !trend.weeks.length) return;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: trend.weeks,
        datasets: [{ label: "Average score", data: trend.scores, borderColor: "#1f5fbf", spanGaps: false, tension: 0 }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: true, text: "Week starting" } },
          y: { min: 0, max: 100, title: { display: true, text: "Score (0-100)" } },
        },
      },
    });
  }

  function draw() {
    drawLevels();
    drawTrend();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
  // The results (and the levels chart's data) are swapped in by htmx when filters change.
  document.addEventListener("htmx:afterSettle", function () {
    var canvas = document.getElementById("scorecard-levels");
    if (canvas && window.Chart && !window.Chart.getChart(canvas)) draw();
  });
})();
