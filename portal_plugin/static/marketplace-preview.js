// Live preview of an ad card while a shop types, built from the same markup residents see.
(function () {
  "use strict";
  var card = document.getElementById("live-preview");
  if (!card) { return; }
  var headline = card.querySelector(".ad-headline");
  var body = card.querySelector(".ad-body");
  var image = card.querySelector("img");
  document.querySelectorAll("[data-preview]").forEach(function (input) {
    var target = input.getAttribute("data-preview") === "headline" ? headline : body;
    var update = function () { target.textContent = input.value; };
    input.addEventListener("input", update);
    update();
  });
  var file = document.getElementById("image");
  if (file && image) {
    file.addEventListener("change", function () {
      if (!file.files || !file.files[0]) { return; }
      var reader = new FileReader();
      reader.onload = function () { image.src = reader.result; image.hidden = false; };
      reader.readAsDataURL(file.files[0]);
    });
  }
})();
