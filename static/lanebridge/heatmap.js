/* The process monitor's diagram: count badges per element (waiting, incidents), colour by p90 time,
 * and a click on an element opens the list of its instances. Loads bpmn-js itself, as diagram.js does.
 */
(function () {
  "use strict";

  const section = document.getElementById("heatmap");
  if (!section) return;

  function loadViewer(url) {
    if (window.BpmnJS) return Promise.resolve(window.BpmnJS);
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(window.BpmnJS); };
      script.onerror = function () { reject(new Error("could not load " + url)); };
      document.head.appendChild(script);
    });
  }

  function badge(element) {
    const html = document.createElement("div");
    html.className = "heat-badge";
    for (const [name, count] of [["waiting", element.active], ["incidents", element.incidents]]) {
      if (!count) continue;
      const span = document.createElement("span");
      span.className = name;
      span.textContent = count;
      html.appendChild(span);
    }
    return html.childElementCount ? html : null;
  }

  async function draw() {
    const statistics = JSON.parse(document.getElementById("heatmap-statistics").textContent);
    const container = section.querySelector(".diagram-canvas");
    section.hidden = false;
    const [BpmnJS, response] = await Promise.all([
      loadViewer(section.dataset.viewerUrl), fetch(section.dataset.bpmnUrl, {credentials: "same-origin"})]);
    if (!response.ok) throw new Error(section.dataset.bpmnUrl + " answered " + response.status);
    container.replaceChildren();
    const viewer = new BpmnJS({container: container});
    await viewer.importXML(await response.text());
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    const overlays = viewer.get("overlays");
    canvas.zoom("fit-viewport");
    const slowest = Math.max(0, ...statistics.elements.map(function (e) { return e.p90_seconds || 0; }));
    let badges = 0;
    for (const element of statistics.elements) {
      if (!registry.get(element.element_id)) continue;
      if (element.p90_seconds !== null && slowest > 0) {
        canvas.addMarker(element.element_id, "heat-" + Math.min(4, Math.ceil(4 * element.p90_seconds / slowest)));
      }
      const html = badge(element);
      if (html) {
        overlays.add(element.element_id, {position: {top: -12, right: 12}, scale: {min: 1.3}, html: html});
        badges += 1;
      }
    }
    viewer.get("eventBus").on("element.click", function (event) {
      const found = statistics.elements.find(function (e) { return e.element_id === event.element.id; });
      if (found && (found.active || found.incidents)) {
        window.location.href = section.dataset.instancesUrl + encodeURIComponent(found.element_id);
      }
    });
    section.dataset.badges = String(badges);
    section.dataset.drawn = "true";
  }

  draw().catch(function (error) {
    console.error("Lanebridge heatmap:", error);
    section.querySelector(".diagram-canvas").hidden = true;
    section.querySelector(".diagram-error").hidden = false;
  });
})();
