// The battle map and board (挂图作战): draws the figures of #board-data (or of the data endpoint,
// refreshed on the wall screen) with ECharts. The page works without it: the tables say the same.
(function () {
  "use strict";
  var SHARE = { on_schedule_share: true, closeout_share: true, attainment: true };
  var charts = {};
  var state = { data: null, geo: false, names: {} };

  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    if (!charts[id]) {
      charts[id] = echarts.init(el, dark() ? "dark" : null);
      if (dark()) { charts[id].setOption({ backgroundColor: "transparent" }); }
    }
    return charts[id];
  }

  function dark() { return document.body.classList.contains("wall"); }

  function text(v) { return v === null || v === undefined ? "—" : v; }

  function countyTip(c) {
    if (!c) { return ""; }
    return "<b>" + c.name + "</b><br>任务 " + c.total + "　逾期 " + c.overdue + "　滞后 " + c.lagging +
      "<br>序时推进占比 " + text(c.on_schedule_share) + (c.on_schedule_share === null ? "" : "%") +
      "<br>完成占比 " + text(c.closeout_share) + (c.closeout_share === null ? "" : "%") +
      "<br>指标达标 " + (c.attainment_total ? c.attainment_met + "/" + c.attainment_total : "—");
  }

  function drawMap(d) {
    var c = chart("map-chart");
    if (!c || !state.geo) { return; }
    var measure = d.measure;
    var share = SHARE[measure];
    var values = d.counties.filter(function (x) { return x.code; }).map(function (x) {
      return { name: x.code, value: x[measure] === null ? NaN : x[measure], county: x, url: x.url };
    });
    var max = share ? 100 : Math.max(1, Math.max.apply(null, values.map(function (v) { return isNaN(v.value) ? 0 : v.value; })));
    c.setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: function (p) {
        return p.data && p.data.county ? countyTip(p.data.county) : ((state.names[p.name] || p.name) + "：不在您的范围内");
      } },
      visualMap: { type: "continuous", min: 0, max: max, calculable: false, left: 10, bottom: 10,
        text: [d.measures[measure], ""], textStyle: { color: dark() ? "#ddd" : "#333" },
        inRange: { color: share ? ["#c62828", "#f9a825", "#2e7d32"]
          : [dark() ? "#24506b" : "#f1f8e9", "#f9a825", "#c62828"] } },
      series: [{ type: "map", map: "rectify-region", nameProperty: "code", roam: false, selectedMode: false,
        label: { show: true, fontSize: dark() ? 16 : 11, color: dark() ? "#fff" : "#222",
          formatter: function (p) { return p.data && p.data.county ? p.data.county.short : (state.names[p.name] || ""); } },
        itemStyle: { areaColor: dark() ? "#37474f" : "#eeeeee", borderColor: dark() ? "#90a4ae" : "#fff" },
        emphasis: { label: { show: true } },
        data: values }]
    });
  }

  function drawStatus(d) {
    var c = chart("status-chart");
    if (!c) { return; }
    c.setOption({
      animation: false, tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
      legend: { bottom: 0, textStyle: { color: dark() ? "#ddd" : "#333" } },
      series: [{ type: "pie", radius: ["45%", "70%"], center: ["50%", "45%"], label: { formatter: "{b}\n{c}" },
        data: d.statuses.filter(function (s) { return s.count; }).map(function (s) {
          return { name: s.name, value: s.count, url: s.url, itemStyle: { color: s.colour } };
        }) }]
    });
  }

  function stacked(id, names, rows, horizontal) {
    var c = chart(id);
    if (!c) { return; }
    var statuses = state.data.statuses;
    var series = statuses.map(function (s) {
      return { name: s.name, type: "bar", stack: "all", itemStyle: { color: s.colour },
        data: rows.map(function (r) { return { value: r.by_status[s.status] || 0, url: r.url }; }) };
    });
    var cat = { type: "category", data: names, axisLabel: { interval: 0, color: dark() ? "#ddd" : "#333" } };
    var val = { type: "value", minInterval: 1, axisLabel: { color: dark() ? "#ddd" : "#333" } };
    if (horizontal) { cat.inverse = true; }
    c.setOption({
      animation: false, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, type: "scroll", textStyle: { color: dark() ? "#ddd" : "#333" } },
      grid: { left: horizontal ? 110 : 40, right: 20, top: 30, bottom: 30, containLabel: false },
      xAxis: horizontal ? val : cat, yAxis: horizontal ? cat : val, series: series
    });
  }

  function drawRounds(d) {
    var c = chart("rounds-chart");
    if (!c || !d.rounds.periods.length) { return; }
    c.setOption({
      animation: false, tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll", textStyle: { color: dark() ? "#ddd" : "#333" } },
      grid: { left: 40, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: d.rounds.periods }, yAxis: { type: "value", minInterval: 1 },
      series: d.rounds.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "all", itemStyle: { color: s.colour }, data: s.data };
      })
    });
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (ch) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch];
    });
  }

  function fillList(id, rows, line) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.innerHTML = rows.length ? rows.map(function (r) { return "<li>" + line(r) + "</li>"; }).join("")
      : "<li class=\"muted\">—</li>";
  }

  function drawLists(d) {  // the wall screen's lists, refreshed with the figures
    fillList("wall-deadlines", d.deadlines.rows, function (r) {
      return "<span class=\"when\">" + escapeHtml(r.deadline) + "</span> " + escapeHtml(r.code + " " + r.title);
    });
    fillList("wall-escalations", d.escalations.rows, function (e) {
      return (e.overdue ? "<b class=\"late\">逾期</b> " : "") + escapeHtml(e.rung + "：" + e.task + "（" + e.unit + "）");
    });
    var total = document.getElementById("wall-total");
    if (total) { total.textContent = d.total; }
    var stamp = document.getElementById("wall-updated");
    if (stamp) { stamp.textContent = new Date().toLocaleTimeString("zh-CN"); }
  }

  function drawAll() {
    var d = state.data;
    drawMap(d);
    drawStatus(d);
    drawRounds(d);
    stacked("county-chart", d.counties.map(function (c) { return c.short; }), d.counties, true);
    stacked("lead-chart", d.lead_units.map(function (u) { return u.name; }), d.lead_units, true);
    drawLists(d);
  }

  function clickTo(id) {
    var c = chart(id);
    if (c) {
      c.on("click", function (p) {
        if (p.data && p.data.url && !document.body.classList.contains("wall")) { window.location.href = p.data.url; }
      });
    }
  }

  function start() {
    var node = document.getElementById("board-data");
    var board = document.getElementById("board");
    if (!node || !board || !window.echarts) { return; }
    state.data = JSON.parse(node.textContent);
    ["map-chart", "status-chart", "county-chart", "lead-chart"].forEach(clickTo);
    var select = document.getElementById("measure");
    if (select) {
      select.addEventListener("change", function () {
        state.data.measure = select.value;
        drawMap(state.data);
        var url = new URL(window.location.href);
        url.searchParams.set("measure", select.value);
        window.history.replaceState(null, "", url.toString());
      });
    }
    var geoUrl = board.getAttribute("data-geo-url");
    drawAll();
    if (geoUrl) {
      fetch(geoUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (geo) {
          if (!geo) { return; }
          geo.features.forEach(function (f) { state.names[f.properties.code] = f.properties.name; });
          echarts.registerMap("rectify-region", geo);
          state.geo = true;
          drawMap(state.data);
          board.setAttribute("data-map-ready", "1");
        });
    }
    var every = parseInt(board.getAttribute("data-refresh") || "0", 10);
    if (every > 0) {
      window.setInterval(function () {
        fetch(board.getAttribute("data-data-url"), { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (d) { if (d && d.counties) { d.measure = state.data.measure; state.data = d; drawAll(); } });
      }, every * 1000);
    }
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
