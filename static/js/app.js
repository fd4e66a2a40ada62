// Respite page behaviour: the live-updates indicator and re-sync after a reconnect.
// Pages work without this file; it only makes them live.
(function () {
  "use strict";
  var opened = false;
  // The event types the stream carries come from the server (respite.realtime.events), on <body>.
  function eventTypes() {
    var names = document.body && document.body.dataset.eventTypes;
    return names ? names.split(" ") : [];
  }
  var watched = new WeakSet();
  var received = 0;

  function setState(state, text) {
    document.querySelectorAll(".live-status").forEach(function (el) {
      el.hidden = false; // hidden in the HTML: without JavaScript there is no live stream to report on
      el.dataset.state = state;
      el.textContent = text;
    });
  }

  function twoDigits(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // A freshness cue: the indicator's tooltip tells when the last update arrived.
  function noteEvent(type) {
    var now = new Date();
    var clock = twoDigits(now.getHours()) + ":" + twoDigits(now.getMinutes()) + ":" + twoDigits(now.getSeconds());
    received += 1;
    document.querySelectorAll(".live-status").forEach(function (el) {
      el.dataset.lastEvent = now.toISOString();
      el.dataset.lastEventType = type;
      el.dataset.eventCount = String(received);
      el.title = "Last update " + clock;
    });
  }

  // htmx's sse extension only listens for the events that elements ask for
  // (sse-swap, hx-trigger="sse:…"); listen on its EventSource for every type.
  // The browser reuses one source across its own reconnects: watch each once.
  var current = null;

  function watch(source) {
    current = source || current;
    if (!source || watched.has(source)) {
      return;
    }
    watched.add(source);
    eventTypes().forEach(function (type) {
      source.addEventListener(type, function () {
        noteEvent(type);
      });
    });
  }

  document.addEventListener("htmx:sseOpen", function (event) {
    watch(event.detail && event.detail.source);
    setState("open", "Live");
    // After a reconnect the page may have missed events: every live region re-fetches itself.
    if (opened) {
      document.body.dispatchEvent(new CustomEvent("respite:resync", { bubbles: true }));
    }
    opened = true;
  });

  // Signing out ends the stream from the server's side: close it first, so that leaving
  // the page is not reported as a lost connection.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-signs-out]") && current) {
      current.close();
    }
  });

  document.addEventListener("htmx:sseError", function () {
    setState("closed", "Reconnecting…");
  });

  document.addEventListener("htmx:sseClose", function () {
    setState("closed", "Reconnecting…");
  });
  // Sign-up: start the time-zone list at the zone this device is in, when the list has it.
  // Options sit in groups (the first match may be under "Suggested"); some browsers report an
  // older name (Asia/Calcutta), which the option carries in data-aliases.
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("form[data-detect-timezone] select[name=timezone]");
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!select || !zone || select.value !== "UTC" || /["\\\]]/.test(zone)) {
      return;
    }
    var option =
      select.querySelector('option[value="' + zone + '"]') ||
      select.querySelector('option[data-aliases~="' + zone + '"]');
    if (option) {
      option.selected = true;
    }
  });

  // Staff desks sign out after a while without activity (STAFF_IDLE_MINUTES, on <body>). A few minutes
  // before, a warning offers to stay signed in; live refreshes are not activity, anything else the person
  // does through htmx is. Page loads start the count again by themselves.
  var WARN_BEFORE_MS = 5 * 60 * 1000;
  var idleTimers = [];
  function idleMinutes() {
    return document.body ? Number(document.body.dataset.idleMinutes || 0) : 0;
  }
  function showIdleWarning(show) {
    var warning = document.querySelector(".idle-warning");
    if (warning) {
      warning.hidden = !show;
    }
  }
  function restartIdleCount() {
    var minutes = idleMinutes();
    idleTimers.forEach(clearTimeout);
    idleTimers = [];
    showIdleWarning(false);
    if (!minutes) {
      return;
    }
    var limit = minutes * 60 * 1000;
    idleTimers.push(setTimeout(function () { showIdleWarning(true); }, Math.max(0, limit - WARN_BEFORE_MS)));
    // Past the limit the server has signed this desk out: reload to show the sign-in page and its message.
    idleTimers.push(setTimeout(function () { window.location.reload(); }, limit + 2000));
  }
  document.addEventListener("DOMContentLoaded", restartIdleCount);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    var type = trigger ? trigger.type : "";
    if (type.indexOf("sse:") !== 0 && type !== "respite:resync") {
      restartIdleCount();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-keep-alive]")) {
      return;
    }
    event.preventDefault();
    var token = form.querySelector("input[name=csrf_token]");
    fetch(form.action, {
      method: "POST",
      headers: { "X-CSRFToken": token ? token.value : "" },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.ok) {
        restartIdleCount();
      } else {
        window.location.reload();
      }
    });
  });

  // A thread opened at its newest messages (#latest) is there before htmx first looks at what is in
  // view (at DOMContentLoaded, after this deferred script): the link to older messages at its top then
  // loads them when the reader scrolls up to it, not at once. Without this file the browser scrolls there.
  var latest = window.location.hash === "#latest" && document.getElementById("latest");
  if (latest) {
    latest.scrollIntoView();
  }
})();
