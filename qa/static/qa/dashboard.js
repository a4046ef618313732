/* Draws the participant dashboard's charts with Chart.js (served from this site). */
"use strict";
(function () {
  function css(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const source = document.getElementById("qa-chart-data");
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    const text = css("--body-fg", "#333");
    const grid = css("--hairline-color", "#e8e8e8");
    Chart.defaults.color = text;
    Chart.defaults.borderColor = grid;
    Chart.defaults.animation = false;

    new Chart(document.getElementById("qa-timeline"), {
      data: {
        labels: data.timeline.map((day) => day.date),
        datasets: [
          { type: "bar", label: "Calls", data: data.timeline.map((day) => day.volume), yAxisID: "volume",
            backgroundColor: "rgba(121, 174, 200, 0.5)" },
          { type: "line", label: "Average score", data: data.timeline.map((day) => day.avg_score), yAxisID: "score",
            borderColor: "#417690", backgroundColor: "#417690", tension: 0.2, pointRadius: 2 },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false,
        scales: {
          score: { type: "linear", position: "left", min: 0, max: 100, title: { display: true, text: "score" } },
          volume: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                    title: { display: true, text: "calls" } },
        },
      },
    });

    const bands = Object.keys(data.distribution);
    new Chart(document.getElementById("qa-distribution"), {
      type: "bar",
      data: { labels: bands, datasets: [{ label: "Calls", data: bands.map((band) => data.distribution[band]),
                                          backgroundColor: ["#ba2121", "#e08e0b", "#c9b40e", "#7cae4e", "#2e7d32"] }] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  });
})();
