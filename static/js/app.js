// Respite page behaviour: the live-updates indicator and re-sync after a reconnect.
// Pages work without this file; it only makes them live.
(function () {
  "use strict";
  var opened = false;

  function setState(state, text) {
    document.querySelectorAll(".live-status").forEach(function (el) {
      el.dataset.state = state;
      el.textContent = text;
    });
  }

  document.addEventListener("htmx:sseOpen", function () {
    setState("open", "Live");
    // After a reconnect the page may have missed events: every live region re-fetches itself.
    if (opened) {
      document.body.dispatchEvent(new CustomEvent("respite:resync", { bubbles: true }));
    }
    opened = true;
  });

  document.addEventListener("htmx:sseError", function () {
    setState("closed", "Reconnecting…");
  });

  document.addEventListener("htmx:sseClose", function () {
    setState("closed", "Reconnecting…");
  });
})();
