// The rule-pack pages: the editor's live validation and line numbers, the back-test chart, and a
// busy state while publishing (it checks every rule and example, which takes a while).
(function () {
  "use strict";
  var DEBOUNCE_MS = 400;

  function editor(form) {
    var area = form.querySelector("textarea");
    var gutter = form.querySelector(".gutter");
    var state = document.getElementById("check-state");
    var list = document.getElementById("problem-list");
    var panel = document.getElementById("problems");
    var timer = null;
    var sent = 0;

    function numberLines() {
      var count = area.value.split("\n").length;
      var out = [];
      for (var i = 1; i <= count; i++) out.push(i);
      gutter.textContent = out.join("\n");
      gutter.scrollTop = area.scrollTop;
    }

    function goToLine(line) {
      var lines = area.value.split("\n");
      var start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
      area.focus();
      area.setSelectionRange(start, start + (lines[line - 1] || "").length);
      var height = area.scrollHeight / Math.max(lines.length, 1);
      area.scrollTop = Math.max(0, (line - 5) * height);
    }

    function show(problems) {
      list.textContent = "";
      problems.forEach(function (p) {
        var li = document.createElement("li");
        var where = document.createElement("span");
        where.className = "where";
        where.textContent = p.line ? panel.dataset.lineLabel.replace("{line}", p.line) : panel.dataset.elsewhere;
        li.appendChild(where);
        if (p.field) {
          var field = document.createElement("code");
          field.textContent = p.field;
          li.appendChild(document.createTextNode(" "));
          li.appendChild(field);
        }
        var message = document.createElement("span");
        message.className = "message";
        message.textContent = " " + p.message;
        li.appendChild(message);
        if (p.line) li.dataset.line = p.line;
        list.appendChild(li);
      });
      panel.classList.toggle("empty", problems.length === 0);
      state.className = "check-state " + (problems.length ? "bad" : "ok");
      state.textContent = problems.length
        ? state.dataset.count.replace("{count}", problems.length)
        : state.dataset.ok;
    }

    function check() {
      var mine = ++sent;
      state.className = "check-state busy";
      state.textContent = state.dataset.checking;
      window.auditcage.post(form.dataset.checkUrl, { text: area.value }).then(function (reply) {
        if (mine !== sent) return; // an older answer, overtaken by newer typing
        show(reply.problems || [{ line: null, field: "", message: reply.message || reply.error }]);
      });
    }

    area.addEventListener("input", function () {
      numberLines();
      clearTimeout(timer);
      timer = setTimeout(check, DEBOUNCE_MS);
    });
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
    area.addEventListener("keydown", function (e) {
      if (e.key === "Tab" && !e.shiftKey) { // two spaces, as YAML wants, instead of leaving the field
        e.preventDefault();
        area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
        area.dispatchEvent(new Event("input"));
      }
    });
    list.addEventListener("click", function (e) {
      var li = e.target.closest("li");
      if (li && li.dataset.line) goToLine(parseInt(li.dataset.line, 10));
    });
    panel.classList.toggle("empty", !list.children.length);
    numberLines();
  }

  function chart(element) {
    var data = JSON.parse(document.getElementById("backtest-data").textContent);
    var instance = window.echarts.init(element, null, { renderer: "canvas" });
    instance.setOption({
      color: ["#8a9bb4", "#1f5fbf"],
      // on the canvas, not HTML: no inline style for the Content-Security-Policy to refuse
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", data: s.data, barMaxWidth: 42,
          label: { show: true, position: "top" } };
      }),
    });
    window.addEventListener("resize", function () { instance.resize(); });
  }

  var form = document.querySelector("form[data-check-url]");
  if (form) editor(form);
  var element = document.getElementById("backtest-chart");
  if (element && window.echarts) chart(element);
  document.querySelectorAll("form[data-busy]").forEach(function (f) {
    f.addEventListener("submit", function () {
      var button = f.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = f.dataset.busy;
      f.classList.add("busy");
    });
  });
})();
