/* Draws the monitor's charts with ECharts and refreshes tiles and charts every 30 seconds.
 *
 * Like diagram.js it loads its library itself, because hx-boost swaps only the body.
 */
(function () {
  "use strict";

  const root = document.getElementById("monitor");
  if (!root) return;
  const labels = JSON.parse(document.getElementById("monitor-labels").textContent);
  const charts = {};

  function loadECharts(url) {
    if (window.echarts) return Promise.resolve(window.echarts);
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(window.echarts); };
      script.onerror = function () { reject(new Error("could not load " + url)); };
      document.head.appendChild(script);
    });
  }

  function chart(echarts, element) {
    const key = element.id || element.dataset.process;
    if (!charts[key] || charts[key].isDisposed()) charts[key] = echarts.init(element);
    return charts[key];
  }

  // Tooltips drawn in the canvas: ECharts' HTML ones carry inline styles, which the Content-Security-Policy refuses.
  const TOOLTIP_MODE = "richText";

  function draw(echarts, data) {
    const days = data.trends.days.map(function (d) { return d.slice(5); });
    chart(echarts, document.getElementById("chart-throughput")).setOption({
      tooltip: {renderMode: TOOLTIP_MODE, trigger: "axis"}, legend: {top: 0}, grid: {left: 36, right: 12, top: 32, bottom: 24},
      xAxis: {type: "category", data: days}, yAxis: {type: "value", minInterval: 1},
      series: [{name: labels.started, type: "bar", data: data.trends.started},
               {name: labels.completed, type: "bar", data: data.trends.completed}],
    });
    chart(echarts, document.getElementById("chart-lead")).setOption({
      tooltip: {renderMode: TOOLTIP_MODE, trigger: "axis"}, grid: {left: 36, right: 12, top: 16, bottom: 24},
      xAxis: {type: "category", data: days}, yAxis: {type: "value"},
      series: [{name: labels.lead, type: "line", smooth: true, connectNulls: true, data: data.trends.lead_hours}],
    });
    for (const process of data.processes) {
      const element = document.querySelector('.funnel[data-process="' + CSS.escape(process.process_id) + '"]');
      if (!element) continue;
      const stages = process.stages.slice().reverse();  // ECharts draws the first category at the bottom
      chart(echarts, element).setOption({
        tooltip: {renderMode: TOOLTIP_MODE, trigger: "axis", axisPointer: {type: "shadow"}}, legend: {top: 0},
        grid: {left: 8, right: 16, top: 28, bottom: 8, containLabel: true},
        xAxis: {type: "value", minInterval: 1},
        yAxis: {type: "category", data: stages.map(function (s) { return s.name; })},
        series: [{name: labels.waiting, type: "bar", stack: "n", data: stages.map(function (s) { return s.waiting; })},
                 {name: labels.incidents, type: "bar", stack: "n", color: "#cf222e",
                  data: stages.map(function (s) { return s.incidents; })}],
      });
    }
    for (const [name, value] of Object.entries(data.tiles)) {
      const tile = root.querySelector('[data-tile="' + name + '"]');
      if (tile) tile.textContent = value;
    }
    document.getElementById("monitor-at").textContent = new Date(data.at).toLocaleTimeString();
    root.dataset.drawn = "true";
  }

  loadECharts(root.dataset.echartsUrl).then(function (echarts) {
    draw(echarts, JSON.parse(document.getElementById("monitor-data").textContent));
    window.addEventListener("resize", function () { Object.values(charts).forEach(function (c) { c.resize(); }); });
    const timer = setInterval(function () {
      if (!document.body.contains(root)) { clearInterval(timer); return; }  // left the page (hx-boost)
      fetch(root.dataset.url, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) { draw(echarts, data); })
        .catch(function (error) { console.error("Lanebridge monitor:", error); });
    }, 30000);
  }).catch(function (error) { console.error("Lanebridge monitor:", error); });
})();
