// The Knowledge page: say at once that a file is too large or of a type that cannot be
// uploaded (before a phone sends megabytes for nothing), and ask before deleting. The
// server checks again either way; the words come from the page, in its language.
(function () {
  "use strict";
  var ALLOWED = [".pdf", ".xlsx", ".csv", ".txt", ".md"];
  var form = document.getElementById("upload");
  if (form) {
    var input = form.querySelector("input[type=file]");
    var problem = document.getElementById("upload-problem");
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    var check = function () {
      var file = input.files && input.files[0];
      var message = "";
      if (file) {
        var name = file.name.toLowerCase();
        var typed = ALLOWED.some(function (suffix) { return name.slice(-suffix.length) === suffix; });
        if (!typed) {
          message = form.getAttribute("data-wrong-type");
        } else if (max > 0 && file.size > max) {
          message = form.getAttribute("data-too-large");
        }
      }
      problem.textContent = message;
      problem.hidden = !message;
      return !message;
    };
    input.addEventListener("change", check);
    form.addEventListener("submit", function (event) {
      if (!check()) { event.preventDefault(); }
    });
  }
  var deletes = document.querySelectorAll("form.delete-source");
  for (var i = 0; i < deletes.length; i++) {
    deletes[i].addEventListener("submit", function (event) {
      if (!window.confirm(this.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }
})();
