// Times come from the server in UTC; show them in the phone's own time and language.
(function () {
  "use strict";
  var lang = document.documentElement.lang || undefined;
  function localize(element) {
    var at = new Date(element.getAttribute("datetime"));
    if (isNaN(at.getTime())) { return; }
    var today = new Date().toDateString() === at.toDateString();
    var options = today ? { hour: "2-digit", minute: "2-digit" }
      : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    try {
      element.textContent = at.toLocaleString(lang, options);
    } catch (error) {
      element.textContent = at.toLocaleString();
    }
  }
  window.kathaLocalizeTime = localize;
  var times = document.querySelectorAll("time[datetime]");
  for (var i = 0; i < times.length; i++) { localize(times[i]); }
})();
