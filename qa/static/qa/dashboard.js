/* Draws the participant dashboard's charts with Chart.js (served from this site). */
"use strict";
(function () {
  // The reader's language (Django's JavaScript catalogue, djangojs); as written here until a page loads it.
  const gettext = window.gettext || ((text) => text);
  const locale = document.documentElement.lang || undefined;
  // A day of the data (ISO 8601, UTC), as the page's language writes it: "14 mar" in Spanish, "Mar 14" in English.
  function shortDay(iso) {
    return new Date(`${iso}T00:00:00Z`).toLocaleDateString(locale, { day: "numeric", month: "short", timeZone: "UTC" });
  }
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
    Chart.defaults.locale = locale;  // the axes' numbers as the page writes them (0,5 in Spanish)

    // Coaching sessions: a dashed line at each session's day (between the days with calls around it).
    const days = data.timeline.map((day) => day.date);
    const coachingMarks = {
      id: "coachingMarks",
      afterDatasetsDraw(chart) {
        const marks = data.coaching || [];
        if (!marks.length || !days.length) return;
        const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = "#8e44ad";
        ctx.fillStyle = "#8e44ad";
        ctx.setLineDash([5, 4]);
        ctx.font = "11px sans-serif";
        marks.forEach((mark) => {
          let index = days.findIndex((day) => day >= mark.date);
          if (index === -1) index = days.length - 1;
          else if (days[index] !== mark.date && index > 0) index -= 0.5;  // between the days around it
          const at = x.getPixelForValue(index);
          ctx.beginPath();
          ctx.moveTo(at, area.top);
          ctx.lineTo(at, area.bottom);
          ctx.stroke();
          const label = gettext("Coaching") + " " + shortDay(mark.date), left = Math.min(at + 3, area.right - ctx.measureText(label).width);
          ctx.fillStyle = css("--body-bg", "#fff");
          ctx.fillRect(left - 1, area.top, ctx.measureText(label).width + 2, 13);
          ctx.fillStyle = "#8e44ad";
          ctx.fillText(label, left, area.top + 10);
        });
        ctx.restore();
      },
    };

    new Chart(document.getElementById("qa-timeline"), {
      plugins: [coachingMarks],
      data: {
        labels: data.timeline.map((day) => day.date),
        datasets: [
          { type: "bar", label: gettext("Calls"), data: data.timeline.map((day) => day.volume), yAxisID: "volume",
            backgroundColor: "rgba(121, 174, 200, 0.5)" },
          { type: "line", label: gettext("Average score"), data: data.timeline.map((day) => day.avg_score), yAxisID: "score",
            borderColor: "#417690", backgroundColor: "#417690", tension: 0.2, pointRadius: 2 },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false,
        scales: {
          x: { ticks: { callback(value) { return shortDay(this.getLabelForValue(value)); } } },
          score: { type: "linear", position: "left", min: 0, max: 100, title: { display: true, text: gettext("score") } },
          volume: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                    title: { display: true, text: gettext("calls") } },
        },
      },
    });

    const bands = Object.keys(data.distribution);
    new Chart(document.getElementById("qa-distribution"), {
      type: "bar",
      data: { labels: bands, datasets: [{ label: gettext("Calls"), data: bands.map((band) => data.distribution[band]),
                                          backgroundColor: ["#ba2121", "#e08e0b", "#c9b40e", "#7cae4e", "#2e7d32"] }] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  });
})();
