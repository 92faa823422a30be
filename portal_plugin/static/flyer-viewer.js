// Zoom for the flyer viewer: buttons and the + / - / 0 keys enlarge every page inside its own
// scrolling frame. Without this script the pages still show at full width, and pinch-zoom and
// the browser's own zoom work as on any page.
(function () {
  "use strict";
  var STEPS = [1, 1.5, 2, 3, 4];
  var viewer = document.querySelector(".flyer-viewer");
  var bar = document.querySelector("[data-zoom-controls]");
  if (!viewer || !bar) { return; }
  var label = bar.querySelector(".zoom-level");
  var stages = viewer.querySelectorAll(".flyer-stage");
  var index = 0;

  function apply(next) {
    index = Math.max(0, Math.min(STEPS.length - 1, next));
    var zoom = STEPS[index];
    for (var i = 0; i < stages.length; i++) {
      var stage = stages[i];
      // Keep the middle of what was in view in the middle after zooming.
      var cx = (stage.scrollLeft + stage.clientWidth / 2) / Math.max(1, stage.scrollWidth);
      var cy = (stage.scrollTop + stage.clientHeight / 2) / Math.max(1, stage.scrollHeight);
      stage.style.setProperty("--zoom", String(zoom));
      stage.scrollLeft = cx * stage.scrollWidth - stage.clientWidth / 2;
      stage.scrollTop = cy * stage.scrollHeight - stage.clientHeight / 2;
    }
    label.textContent = label.getAttribute("data-zoom-label") + " " + Math.round(zoom * 100) + "%";
    bar.querySelector("[data-zoom=out]").disabled = index === 0;
    bar.querySelector("[data-zoom=in]").disabled = index === STEPS.length - 1;
  }

  bar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-zoom]");
    if (!button) { return; }
    var action = button.getAttribute("data-zoom");
    apply(action === "in" ? index + 1 : action === "out" ? index - 1 : 0);
  });
  viewer.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }  // the browser's own zoom
    if (event.target.closest("input, textarea, select")) { return; }
    if (event.key === "+" || event.key === "=") { apply(index + 1); event.preventDefault(); }
    else if (event.key === "-") { apply(index - 1); event.preventDefault(); }
    else if (event.key === "0") { apply(0); event.preventDefault(); }
  });
  bar.hidden = false;
  apply(0);
})();
