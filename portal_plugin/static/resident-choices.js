// 「このお店の広告を表示しない」 and 「好みに合わせた広告を停止」 on residents' ad cards.
// The forms work without this script (a 303 to 広告の設定); with it, the answer shows on the
// card itself. Loaded by the feed and gadget fragments, possibly both on one page: bound once.
(function () {
  "use strict";
  if (window.portalResidentChoices) {
    return;
  }
  window.portalResidentChoices = true;

  function settingsLink(form) {
    var details = form.closest(".about-ad");
    var link = details && details.querySelector(".about-ad-links a");
    return link ? link.cloneNode(true) : null;
  }

  function replaceCard(card, message, link) {
    var note = document.createElement("p");
    note.className = "choice-done";
    note.setAttribute("role", "status");
    note.setAttribute("tabindex", "-1");
    note.textContent = message + " ";
    if (link) {
      note.appendChild(link);
    }
    card.replaceChildren(note);
    card.classList.add("hidden-shop");
    return note;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("choice-form")) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button");
    var status = form.parentElement.querySelector(".choice-status");
    if (button) {
      button.disabled = true;
    }
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (button) {
          button.disabled = false;
        }
        if (!result.ok) {
          var error = result.body && result.body.error;
          if (status) {
            status.textContent = error ? error.message : "";
          }
          return;
        }
        var message = result.body.message;
        if (form.dataset.choice === "hide_shop") {
          var link = settingsLink(form);
          var shop = form.querySelector('input[name="shop_id"]').value;
          var first = null;
          document
            .querySelectorAll('.choice-form[data-choice="hide_shop"] input[name="shop_id"]')
            .forEach(function (input) {
              var card = input.value === shop ? input.closest(".card") : null;
              if (card) {
                var note = replaceCard(card, message, link ? link.cloneNode(true) : null);
                first = first || note;
              }
            });
          if (first) {
            first.focus();
          }
        } else {
          document
            .querySelectorAll('.choice-form[data-choice="personalized_ads"]')
            .forEach(function (other) {
              other.hidden = true;
            });
          if (status) {
            status.textContent = message;
          }
        }
      })
      .catch(function () {
        form.submit(); // no answer we can read: the plain form's way
      });
  });
})();
