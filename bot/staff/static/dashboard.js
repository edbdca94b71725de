/* The dashboard's charts, drawn with the locally served Chart.js from the figures embedded in the page. */
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("figures").textContent);
  var colors = { blue: "#2f6690", red: "#b42318", amber: "#b54708", grey: "#667085" };
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#344054";
  Chart.defaults.animation = false;

  function chart(id, config) {
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false }, config.options || {});
    return new Chart(document.getElementById(id), config);
  }
  var integer = { beginAtZero: true, ticks: { precision: 0 } };

  chart("chart-conversations", {
    type: "bar",
    data: { labels: figures.days, datasets: [{ label: "Conversations", data: figures.conversations, backgroundColor: colors.blue }] },
    options: { plugins: { legend: { display: false } }, scales: { y: integer } }
  });
  chart("chart-escalations", {
    type: "bar",
    data: {
      labels: figures.days,
      datasets: [
        { label: "Emergency", data: figures.emergency, backgroundColor: colors.red },
        { label: "Professional", data: figures.professional, backgroundColor: colors.amber }
      ]
    },
    options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, integer) } }
  });
  chart("chart-topics", {
    type: "bar",
    data: {
      labels: figures.topics.map(function (t) { return t.intent; }),
      datasets: [{ label: "Conversations", data: figures.topics.map(function (t) { return t.conversations; }), backgroundColor: colors.blue }]
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: integer } }
  });
  chart("chart-fallback", {
    type: "line",
    data: { labels: figures.days, datasets: [{ label: "% of turns", data: figures.fallback_rate, borderColor: colors.grey, backgroundColor: colors.grey }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, suggestedMax: 20, ticks: { callback: function (v) { return v + "%"; } } } } }
  });
})();
