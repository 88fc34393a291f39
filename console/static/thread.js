// The thread's buttons: each form posts to the JSON API with the page's CSRF token, then
// the page reloads to show the new state. A reply keeps its reply_id while its words stay
// the same and no answer came back (a retry after a lost answer reaches the customer once);
// edited words, or an answer that said it was not sent, make the next try a new reply.
(function () {
  "use strict";
  var actions = document.getElementById("actions");
  if (!actions || !window.fetch) { return; }
  var status = document.getElementById("action-status");
  var replyId = null;
  var replyText = null; // the words replyId was made for

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function say(text) { status.textContent = text || ""; }

  function problem(response, body) {
    var data = actions.dataset;
    if (response.status === 401) { return data.signedOut; }
    if (response.status === 404) { return data.gone; }
    if (response.status === 503) { return data.unavailable; }
    if (response.status === 409) {
      var reason = body && typeof body.detail === "string" ? body.detail : "";
      var key = "reason" + reason.split("_").map(function (part) {
        return part.charAt(0).toUpperCase() + part.slice(1);
      }).join("");
      return data[key] || data.refused;
    }
    return data.failed;
  }

  function submit(form, event) {
    event.preventDefault();
    var action = form.dataset.action;
    var payload = {};
    if (action === "reply") {
      var text = form.elements.text.value;
      if (!text.trim()) { return; }
      if (replyId === null || text !== replyText) { replyId = newId(); replyText = text; }
      payload = { text: text, reply_id: replyId };
    }
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
    say(actions.dataset.sending);
    fetch(actions.dataset.api + "/" + action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": actions.dataset.csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      if (response.ok) { replyId = null; window.location.reload(); return; }
      if (response.status !== 503) { replyId = null; } // refused: nothing was sent
      return response.json().catch(function () { return null; }).then(function (body) {
        say(problem(response, body));
      });
    }).catch(function () {
      say(actions.dataset.failed);
    }).then(function () {
      for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = false; }
    });
  }

  var forms = actions.querySelectorAll("form[data-action]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", submit.bind(null, forms[i]));
  }
})();
