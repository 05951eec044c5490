// A target's trend (one line per region, the target as a dashed line) and the per-county bars.
(function () {
  function start() {
    var dataNode = document.getElementById("indicator-chart-data");
    if (!dataNode || !window.echarts) { return; }
    var d = JSON.parse(dataNode.textContent);
    var colours = { met: "#2e7d32", not_met: "#c62828", no_data: "#9e9e9e" };
    var trend = document.getElementById("trend-chart");
    if (trend) {
      var series = d.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 6 };
      });
      if (d.target !== null && series.length) {
        series[0].markLine = { symbol: "none", lineStyle: { type: "dashed", color: "#c62828" },
          label: { position: "insideEndTop", formatter: "目标 " + d.target + d.unit }, data: [{ yAxis: d.target }] };
      }
      var chart = echarts.init(trend);
      chart.setOption({
        animation: false, tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
        grid: { left: 50, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: d.periods },
        yAxis: d.yes_no ? { type: "value", min: 0, max: 1, interval: 1,
          axisLabel: { formatter: function (v) { return v === 1 ? "是" : "否"; } } } : { type: "value", scale: true,
          axisLabel: { formatter: "{value}" + d.unit } },
        series: series
      });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var cmp = document.getElementById("comparison-chart");
    if (cmp) {
      var bars = echarts.init(cmp);
      bars.setOption({
        animation: false, tooltip: { trigger: "axis" }, grid: { left: 50, right: 20, top: 20, bottom: 60 },
        xAxis: { type: "category", data: d.comparison.map(function (c) { return c.name; }), axisLabel: { rotate: 30 } },
        yAxis: d.yes_no ? { type: "value", min: 0, max: 1, interval: 1 } : { type: "value", scale: true },
        series: [{ type: "bar", data: d.comparison.map(function (c) {
          return { value: c.value, itemStyle: { color: colours[c.attainment] } };
        }), markLine: d.target === null ? undefined : { symbol: "none", data: [{ yAxis: d.target }],
          lineStyle: { type: "dashed", color: "#c62828" } } }]
      });
      window.addEventListener("resize", function () { bars.resize(); });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
