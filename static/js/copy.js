// Copy buttons: <button data-copy="ID"> copies the value of the input with that id, and says so in the
// element [data-copy-status="ID"]. The buttons are hidden in the HTML: without JavaScript the readonly
// input is there to select and copy by hand.
(function () {
  "use strict";

  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) {
      status.textContent = text;
    }
  }

  function copyBySelection(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) {
      return;
    }
    var id = button.dataset.copy;
    var input = document.getElementById(id);
    if (!input) {
      return;
    }
    var done = function () { say(id, "Copied. Paste it into a message to them."); };
    var fallback = function () {
      if (copyBySelection(input)) {
        done();
      } else {
        say(id, "The link is selected: press Ctrl+C (or Cmd+C) to copy it.");
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fallback);
    } else {
      fallback();
    }
  });
})();
