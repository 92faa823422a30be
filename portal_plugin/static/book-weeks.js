// The booking form's weeks follow the chosen placement: each week says how many shares are
// free for it, sold-out weeks cannot be chosen, and a sold-out choice moves to the first free
// week. Without JavaScript the server has already opened the form on the first free week of
// the placement it shows.
(function () {
  "use strict";
  var placement = document.getElementById("placement_id");
  var weeks = document.getElementById("first_week");
  if (!placement || !weeks) { return; }
  var openLabel = weeks.getAttribute("data-open-label") || "{n}";
  var fullLabel = weeks.getAttribute("data-full-label") || "";
  var update = function () {
    var id = placement.value;
    var firstFree = null;
    Array.prototype.forEach.call(weeks.options, function (option) {
      var free = parseInt(option.getAttribute("data-free-" + id) || "0", 10);
      option.disabled = free === 0;
      option.textContent = option.getAttribute("data-day") + " — " +
        (free > 0 ? openLabel.replace("{n}", String(free)) : fullLabel);
      if (free > 0 && firstFree === null) { firstFree = option; }
    });
    var current = weeks.options[weeks.selectedIndex];
    if ((!current || current.disabled) && firstFree) { firstFree.selected = true; }
  };
  placement.addEventListener("change", update);
})();
