// The conversation list, live: each `conversation` event from the server's stream moves
// that conversation's row to the top (or removes it when it no longer fits the filters);
// a `removed` event drops the row of one that left the server's window. The server applies
// the page's filters itself: the stream's address carries them.
// Rows are copied from the page's <template> and filled with textContent only: a
// customer's words are never parsed as HTML.
(function () {
  "use strict";
  var list = document.getElementById("conversations");
  var template = document.getElementById("row-template");
  if (!list || !template || !window.EventSource) { return; }
  if (list.dataset.paged) { return; } // an older page stays as it is
  var empty = document.getElementById("empty");
  var status = document.getElementById("live-status");
  var names = document.getElementById("language-names");

  function fits(summary) {
    if (list.dataset.withPerson && !summary.with_person) { return false; }
    if (list.dataset.unanswered && !summary.unanswered) { return false; }
    if (list.dataset.language && summary.language !== list.dataset.language) { return false; }
    return true;
  }

  function languageName(code) {
    if (names) {
      for (var i = 0; i < names.options.length; i++) {
        if (names.options[i].value === code) { return names.options[i].textContent; }
      }
    }
    return code;
  }

  function setBadge(row, name, shown, text) {
    var badge = row.querySelector(".badge." + name);
    if (!badge) { return; }
    badge.hidden = !shown;
    if (text !== undefined) { badge.textContent = text; }
  }

  function buildRow(summary) {
    var row = template.content.firstElementChild.cloneNode(true);
    row.dataset.id = summary.conversation_id;
    row.dataset.lastAt = summary.last_at;
    row.querySelector("a").href = list.dataset.base + "/c/" + encodeURIComponent(summary.conversation_id);
    var who = row.querySelector(".who");
    var fallback = who.textContent || who.dataset.fallback || "";
    who.textContent = summary.customer_name || summary.customer_handle || fallback;
    var when = row.querySelector(".when");
    when.setAttribute("datetime", summary.last_at);
    when.textContent = summary.last_at;
    if (window.kathaLocalizeTime) { window.kathaLocalizeTime(when); }
    row.querySelector(".preview").textContent = summary.last_text || "";
    setBadge(row, "person", summary.with_person);
    setBadge(row, "unanswered", summary.unanswered);
    setBadge(row, "language", !!summary.language, summary.language ? languageName(summary.language) : "");
    return row;
  }

  function drop(id) {
    var rows = list.querySelectorAll("li.conversation");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].dataset.id === id) { rows[i].remove(); }
    }
    if (empty) { empty.hidden = list.querySelector("li.conversation") !== null; }
  }

  function show(summary) {
    drop(summary.conversation_id);
    if (fits(summary)) { list.insertBefore(buildRow(summary), list.firstElementChild); }
    if (empty) { empty.hidden = list.querySelector("li.conversation") !== null; }
  }

  var query = [];
  if (list.dataset.since) { query.push("since=" + encodeURIComponent(list.dataset.since)); }
  if (list.dataset.withPerson) { query.push("with_person=true"); }
  if (list.dataset.unanswered) { query.push("unanswered=true"); }
  if (list.dataset.language) { query.push("language=" + encodeURIComponent(list.dataset.language)); }
  var url = list.dataset.events + (query.length ? "?" + query.join("&") : "");
  var source = new EventSource(url);
  source.addEventListener("conversation", function (event) {
    try { show(JSON.parse(event.data)); } catch (error) { /* a malformed event is skipped */ }
  });
  source.addEventListener("removed", function (event) {
    try { drop(JSON.parse(event.data).conversation_id); } catch (error) { /* skipped */ }
  });
  source.addEventListener("open", function () { if (status) { status.textContent = ""; } });
  source.addEventListener("error", function () {
    if (status) { status.textContent = status.dataset.offline || ""; }
  });
})();
