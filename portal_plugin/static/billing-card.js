// Card payment with Stripe.js: the card number goes straight to Stripe, never to us.
// 3-D Secure is handled by confirmCardPayment; the server then reads the PaymentIntent.
(function () {
  "use strict";
  var section = document.getElementById("card-payment");
  if (!section || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(section.dataset.publishableKey);
  var card = stripe.elements({ locale: "ja" }).create("card", { hidePostalCode: true });
  card.mount("#card-element");
  var button = document.getElementById("card-pay");
  var message = document.getElementById("card-message");
  button.addEventListener("click", function () {
    button.disabled = true;
    message.textContent = "";
    fetch(section.dataset.intentUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": section.dataset.csrfToken, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error ? body.error.message : "error"); }
        return stripe.confirmCardPayment(body.client_secret, { payment_method: { card: card } });
      });
    }).then(function (result) {
      if (result.error) { throw new Error(result.error.message); }
      window.location.assign(section.dataset.returnUrl);
    }).catch(function (error) {
      message.textContent = error.message;
      button.disabled = false;
    });
  });
})();
