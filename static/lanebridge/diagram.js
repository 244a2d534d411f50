/* Draws the page's BPMN diagram (#diagram) with bpmn-js and marks done, current and failed elements.
 *
 * Runs on a full page load and again after each hx-boost swap (htmx runs the scripts of the new
 * body, not of its head), so it loads the viewer bundle itself when an earlier page did not.
 * Until drawn the section stays hidden: without JS the page shows only its tables.
 */
(function () {
  "use strict";

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

  function markers() {
    const data = document.getElementById("diagram-markers");
    return data ? JSON.parse(data.textContent) : {};
  }

  async function draw(section) {
    const container = section.querySelector(".diagram-canvas");
    section.hidden = false;  // bpmn-js measures its container to fit the diagram in it
    const [BpmnJS, response] = await Promise.all([
      loadViewer(section.dataset.viewerUrl),
      fetch(section.dataset.bpmnUrl, {credentials: "same-origin"}),
    ]);
    if (!response.ok) throw new Error(section.dataset.bpmnUrl + " answered " + response.status);
    const xml = await response.text();
    container.replaceChildren();  // a page restored from htmx's history cache still holds the old drawing
    const viewer = new BpmnJS({container: container});
    await viewer.importXML(xml);
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    for (const [state, ids] of Object.entries(markers())) {
      for (const id of ids) {
        // Elements without a shape (another process of the file, no diagram layout) are skipped.
        if (registry.get(id)) canvas.addMarker(id, "lb-" + state);
      }
    }
    section.dataset.drawn = "true";
    // Other scripts of the page (move_token.js) work on the same drawing.
    section.lanebridgeViewer = viewer;
    section.dispatchEvent(new CustomEvent("lanebridge:drawn", {detail: {viewer: viewer}}));
  }

  const section = document.getElementById("diagram");
  if (section) {
    draw(section).catch(function (error) {
      console.error("Lanebridge diagram:", error);
      section.querySelector(".diagram-canvas").hidden = true;
      section.querySelector(".diagram-error").hidden = false;
    });
  }
})();
