// Dashboards: draws each [data-chart] container with ECharts from the JSON the page embeds
// (#dash-data), and resizes the charts with the window.
(function () {
  "use strict";
  var source = document.getElementById("dash-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent || "{}");
  var COLOURS = { red: "#c62828", orange: "#e46b00", yellow: "#e0a800", blue: "#1565c0" };
  var ACCENT = ["#1f5fbf", "#26a69a", "#8e5cc4", "#e46b00", "#c62828"];
  var FONT = '"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif';
  var base = { textStyle: { fontFamily: FONT }, animationDuration: 400 };

  function pick(rows, key) { return rows.map(function (r) { return r[key]; }); }
  function legend() { return { top: 0, icon: "roundRect", itemWidth: 12, itemHeight: 8 }; }
  function grid(extra) {
    return Object.assign({ left: 8, right: 16, top: 34, bottom: 8, containLabel: true }, extra || {});
  }
  function severityBars(rows, labelKey, horizontal) {
    return data.severities.map(function (s) {
      return { name: s.label, type: "bar", stack: "sev", barMaxWidth: 28,
        itemStyle: { color: COLOURS[s.key] }, emphasis: { focus: "series" }, data: pick(rows, s.key) };
    });
  }

  var builders = {
    severity: function (el) {
      var inside = el.clientWidth < 420;  // a phone: the counts on the ring
      var rows = data.severity.filter(function (r) { return r.alerts > 0; });
      var total = data.severity.reduce(function (n, r) { return n + r.alerts; }, 0);
      var label = {};
      data.severities.forEach(function (s) { label[s.key] = s.label; });
      return {
        tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
        legend: Object.assign(legend(), { bottom: 0, top: "auto" }),
        title: { text: String(total), subtext: data.labels.alerts, left: "center", top: "38%",
          textStyle: { fontSize: 26, fontWeight: 700, color: "#1d2430" }, subtextStyle: { color: "#6b7280" } },
        series: [{ type: "pie", radius: ["48%", "72%"], center: ["50%", "46%"], avoidLabelOverlap: true,
          label: inside ? { position: "inside", color: "#fff", fontWeight: 700, formatter: "{c}" }
            : { formatter: "{c}" }, itemStyle: { borderColor: "#fff", borderWidth: 2 },
          data: rows.map(function (r) {
            return { name: label[r.severity], value: r.alerts, itemStyle: { color: COLOURS[r.severity] } };
          }) }],
      };
    },
    series: function () {
      var bars = severityBars(data.series);
      bars.push({ name: data.labels.hits, type: "line", symbolSize: 6,
        itemStyle: { color: "#102a4c" }, lineStyle: { width: 2 }, data: pick(data.series, "hits") });
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: legend(), grid: grid(),
        xAxis: { type: "category", data: pick(data.series, "bucket"), axisTick: { alignWithLabel: true } },
        yAxis: { type: "value", minInterval: 1 }, series: bars,
      };
    },
    units: function () {
      var rows = data.units.slice(0, 15).reverse();
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: legend(), grid: grid(),
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: pick(rows, "unit_name"), axisLabel: { width: 150, overflow: "truncate" } },
        series: severityBars(rows),
      };
    },
    families: function () {
      var rows = data.family_counts;
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: legend(), grid: grid(),
        xAxis: { type: "category", data: pick(rows, "family") },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: data.labels.alerts, type: "bar", barMaxWidth: 26, itemStyle: { color: ACCENT[0] }, data: pick(rows, "alerts") },
          { name: data.labels.hits, type: "bar", barMaxWidth: 26, itemStyle: { color: ACCENT[1] }, data: pick(rows, "hits") },
        ],
      };
    },
    heatmap: function (el) {
      var narrow = el.clientWidth < 560;  // a phone: family codes only
      var units = data.heatmap.map(function (r) { return r.unit_name; }).reverse();
      var families = data.families.map(function (f) { return f.key; });
      var cells = [], max = 1;
      data.heatmap.slice().reverse().forEach(function (r, y) {
        families.forEach(function (f, x) { cells.push([x, y, r[f] || 0]); max = Math.max(max, r[f] || 0); });
      });
      return {
        tooltip: { position: "top", formatter: function (p) {
          return units[p.value[1]] + "\n" + data.families[p.value[0]].label + ": " + p.value[2];
        } },
        grid: grid({ top: 8, bottom: 56 }),
        xAxis: { type: "category", splitArea: { show: true },
          data: data.families.map(function (f) { return narrow ? f.key : f.label; }),
          axisLabel: { interval: 0 } },
        yAxis: { type: "category", data: units, splitArea: { show: true }, axisLabel: { width: 150, overflow: "truncate" } },
        visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0,
          itemHeight: 180, inRange: { color: ["#f4f7fb", "#ffd8a8", "#f08c00", "#c62828"] } },
        series: [{ type: "heatmap", data: cells, label: { show: true, formatter: function (p) { return p.value[2] || ""; } },
          itemStyle: { borderColor: "#fff", borderWidth: 1 }, emphasis: { itemStyle: { shadowBlur: 6, shadowColor: "rgba(0,0,0,.3)" } } }],
      };
    },
    scoreboard: function () {
      var series = data.series.map(function (s, i) {
        return { name: s.label, type: "bar", barMaxWidth: 18, itemStyle: { color: ACCENT[i] }, data: s.values };
      });
      series.push({ name: data.pushed.label, type: "bar", yAxisIndex: 1, barMaxWidth: 18,
        itemStyle: { color: "#cfd8e3" }, data: data.pushed.values });
      series.push({ name: data.overdue.label, type: "line", yAxisIndex: 1, symbolSize: 7,
        itemStyle: { color: COLOURS.red }, lineStyle: { type: "dashed" }, data: data.overdue.values });
      var settled = data.series.some(function (s) {
        return s.values.some(function (v) { return v !== null; });
      });
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: legend(),
        grid: grid({ bottom: 8 }),
        graphic: settled ? [] : [{ type: "text", left: "center", top: "40%",
          style: { text: data.no_rates, fill: "#6b7280", fontSize: 14, fontFamily: FONT,
            backgroundColor: "#fff", padding: [6, 12] } }],
        xAxis: { type: "category", data: data.units, axisLabel: { interval: 0, rotate: data.units.length > 6 ? 30 : 0, width: 110, overflow: "truncate" } },
        yAxis: [{ type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
                { type: "value", minInterval: 1, splitLine: { show: false } }],
        series: series,
      };
    },
    briefing: function () {
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: legend(), grid: grid(),
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.units.slice().reverse() },
        series: [
          { name: data.new.label, type: "bar", stack: "b", barMaxWidth: 22, itemStyle: { color: COLOURS.orange }, data: data.new.values.slice().reverse() },
          { name: data.overdue.label, type: "bar", stack: "b", barMaxWidth: 22, itemStyle: { color: COLOURS.red }, data: data.overdue.values.slice().reverse() },
        ],
      };
    },
  };

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var build = builders[el.dataset.chart];
    if (!build) return;
    if (el.dataset.chart === "heatmap") {  // a row per unit: as tall as the units need
      el.style.height = Math.max(200, Math.min(720, 110 + 30 * data.heatmap.length)) + "px";
    }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.on("finished", function () { el.dataset.rendered = "1"; });  // tests and screenshots
    var option = Object.assign({}, base, build(el));
    // Tooltips drawn on the canvas, not as HTML: no inline style for the Content-Security-Policy
    // to refuse, and nothing from the data (unit names are reference data) parsed as markup.
    if (option.tooltip) option.tooltip = Object.assign({ renderMode: "richText" }, option.tooltip);
    chart.setOption(option);
    charts.push(chart);
  });
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) window.clearTimeout(pending);
    pending = window.setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 120);
  });
})();
