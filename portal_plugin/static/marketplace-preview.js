// Live preview of an ad card while a shop types, built from the same markup residents see
// (fragments/ad_card.html): the headline, the body, and the chosen image at its own size.
(function () {
  "use strict";
  var card = document.getElementById("live-preview");
  if (!card) { return; }
  var headline = card.querySelector(".ad-headline");
  var body = card.querySelector(".ad-body");
  var image = card.querySelector("img.ad-image");
  document.querySelectorAll("[data-preview]").forEach(function (input) {
    var isHeadline = input.getAttribute("data-preview") === "headline";
    var target = isHeadline ? headline : body;
    var update = function () {
      target.textContent = input.value;
      if (isHeadline && image && !image.hidden) { image.alt = input.value; }
      if (!isHeadline) { body.hidden = input.value === ""; }
    };
    input.addEventListener("input", update);
    update();
  });
  var file = document.getElementById("image");
  if (file && image) {
    file.addEventListener("change", function () {
      if (!file.files || !file.files[0]) { return; }
      var reader = new FileReader();
      reader.onload = function () {
        image.onload = function () {
          image.width = image.naturalWidth;
          image.height = image.naturalHeight;
        };
        image.src = reader.result;
        image.alt = headline.textContent;
        image.hidden = false;
      };
      reader.readAsDataURL(file.files[0]);
    });
  }
})();
