// Stripe's Payment Element on the order's card page: the card form is Stripe's (served from js.stripe.com in its
// own frame), the amount and currency are the payment intent's (created by the server), and the order becomes paid
// when Stripe's webhook reports the intent succeeded. Nothing here decides anything about money.
(function () {
  "use strict";
  var holder = document.getElementById("payment-element");
  var form = document.getElementById("card-form");
  var message = document.getElementById("card-message");
  if (!holder || !form || typeof window.Stripe !== "function") {
    if (message) { message.hidden = false; }
    return;
  }
  var stripe = window.Stripe(holder.dataset.publishableKey, { locale: document.documentElement.lang || "auto" });
  var elements = stripe.elements({ clientSecret: holder.dataset.clientSecret });
  elements.create("payment").mount(holder);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: holder.dataset.returnUrl } })
      .then(function (result) {
        if (result.error) {  // only reached when the payment could not be confirmed (no redirect happened)
          message.textContent = result.error.message || "";
          message.hidden = false;
          button.disabled = false;
        }
      });
  });
}());
