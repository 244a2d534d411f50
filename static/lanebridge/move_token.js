/* "Move token" on the instance page: pick on the diagram what the form's lists hold.
 *
 * A click on an element with a token ticks (or unticks) it in "Take the token away from";
 * after "Pick on the diagram", the next click on an element chooses it in "Start a token
 * before". The lists stay the form: without the diagram, or without JS, they are used as they are.
 */
(function () {
  "use strict";

  const form = document.querySelector("#move-token form");
  const section = document.getElementById("diagram");
  if (!form || !section) return;
  const target = form.querySelector("select[name=start_before]");
  const pick = form.querySelector(".pick-target");
  let picking = false;
  let viewer = null;

  function setPicking(on) {
    picking = on;
    pick.setAttribute("aria-pressed", String(on));
    section.classList.toggle("picking", on);
  }

  function boxFor(id) {
    return Array.from(form.querySelectorAll("input[name=cancel]")).find(function (box) { return box.value === id; });
  }

  function redraw() {
    if (!viewer) return;
    const canvas = viewer.get("canvas");
    viewer.get("elementRegistry").forEach(function (element) {
      canvas.removeMarker(element.id, "lb-move-from");
      canvas.removeMarker(element.id, "lb-move-to");
    });
    form.querySelectorAll("input[name=cancel]:checked").forEach(function (box) {
      if (viewer.get("elementRegistry").get(box.value)) canvas.addMarker(box.value, "lb-move-from");
    });
    if (target.value && viewer.get("elementRegistry").get(target.value)) canvas.addMarker(target.value, "lb-move-to");
  }

  function attach(drawn) {
    viewer = drawn;
    viewer.get("eventBus").on("element.click", function (event) {
      const id = event.element.id;
      if (picking) {
        if (Array.from(target.options).some(function (option) { return option.value === id; })) {
          target.value = id;
          setPicking(false);
        }
      } else {
        const box = boxFor(id);
        if (!box) return;
        box.checked = !box.checked;
      }
      form.closest("details").open = true;
      redraw();
    });
    redraw();
  }

  pick.addEventListener("click", function () { setPicking(!picking); });
  form.addEventListener("change", redraw);
  if (section.lanebridgeViewer) {
    attach(section.lanebridgeViewer);
  } else {
    section.addEventListener("lanebridge:drawn", function (event) { attach(event.detail.viewer); }, {once: true});
  }
})();
