/* The toil pages' charts, drawn with the vendored Chart.js from the JSON script elements the
   pages render next to their canvases: a team's share of capacity per month against the cap,
   and the organisation's measured toil hours per month by category. */
(function () {
  "use strict";

  var CATEGORY_COLOURS = {
    interrupts: "#d4351c",
    on_call: "#8a1c12",
    releases: "#1f5fbf",
    manual_operations: "#f0a30a",
    requests: "#6f42c1",
    other: "#8a94a6",
  };

  function data(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  function percentTick(value) {
    return value + " %";
  }

  function drawShare() {
    var canvas = document.getElementById("toil-share-chart");
    var chart = data("toil-share-data");
    if (!canvas || !chart || !window.Chart) return;
    var highest = Math.max.apply(null, [chart.cap].concat(chart.share, chart.estimated).filter(function (v) { return v !== null; }));
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: chart.months,
        datasets: [
          { label: "Measured share", data: chart.share, borderColor: "#1f5fbf", backgroundColor: "#1f5fbf", spanGaps: false },
          { label: "Estimated share", data: chart.estimated, borderColor: "#8a94a6", backgroundColor: "#8a94a6", borderDash: [4, 4] },
          {
            label: "Cap (" + chart.cap + " %)",
            data: chart.months.map(function () { return chart.cap; }),
            borderColor: "#b42318",
            backgroundColor: "#b42318",
            pointRadius: 0,
            borderWidth: 2,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + (item.raw === null ? "—" : item.raw.toFixed(1) + " %"); } } },
        },
        scales: {
          x: { title: { display: true, text: "Month" } },
          y: {
            min: 0,
            suggestedMax: Math.max(100, Math.ceil(highest / 10) * 10),
            title: { display: true, text: "Share of capacity" },
            ticks: { callback: percentTick },
          },
        },
      },
    });
  }

  function drawCategories() {
    var canvas = document.getElementById("toil-category-chart");
    var chart = data("toil-category-data");
    if (!canvas || !chart || !window.Chart) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.months,
        datasets: chart.categories.map(function (category) {
          return { label: category.label, data: category.hours, backgroundColor: CATEGORY_COLOURS[category.key] };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + item.raw.toFixed(1) + " h"; } } },
        },
        scales: {
          x: { stacked: true, title: { display: true, text: "Month" } },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: "Hours" } },
        },
      },
    });
  }

  function draw() {
    drawShare();
    drawCategories();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
