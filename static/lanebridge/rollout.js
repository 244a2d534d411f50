/* The rollout slider shows the share it is set to beside it as it moves. */
(function () {
  "use strict";
  for (const slider of document.querySelectorAll("input.rollout-percent")) {
    const share = slider.form.querySelector("output.rollout-share");
    if (!share) continue;
    slider.addEventListener("input", function () { share.textContent = slider.value + " %"; });
  }
})();
