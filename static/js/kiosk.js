// The kiosk tablet (templates/kiosk/base.html): its clock, going back to the board after a while without a
// touch, and never showing a stale board silently. The pages work without this file, as plain pages.
(function () {
  "use strict";

  var body = document.body;
  if (!body || !body.dataset.kiosk) {
    return;
  }
  var boardUrl = body.dataset.kioskBoard;
  var onBoard = body.dataset.kiosk === "board";

  // --- The clock and the date, on the center's clock (not the tablet's zone) -----------------------------
  var zone = body.dataset.kioskZone || "UTC";
  var clock = document.querySelector("[data-kiosk-clock]");
  var day = document.querySelector("[data-kiosk-date]");
  var timeFormat = null;
  var dateFormat = null;
  try {
    timeFormat = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit" });
    dateFormat = new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "long", day: "numeric", month: "long" });
  } catch (error) {
    timeFormat = null; // an unknown zone: the server's time stays as it was rendered
  }
  function tick() {
    if (!timeFormat || !clock) {
      return;
    }
    var now = new Date();
    clock.textContent = timeFormat.format(now);
    clock.setAttribute("datetime", now.toISOString());
    if (day) {
      day.textContent = dateFormat.format(now).replace(",", "");
    }
  }
  tick();
  setInterval(tick, 1000);

  // --- Back to the board after a while without a touch, and nothing typed kept --------------------------
  var idleMs = Number(body.dataset.kioskIdleSeconds || 30) * 1000;
  var idleTimer = null;
  function clearTyped() {
    document.querySelectorAll("form").forEach(function (form) {
      form.reset();
    });
    document.querySelectorAll("input:not([type=hidden]):not([type=radio])").forEach(function (input) {
      input.value = "";
    });
  }
  function idle() {
    clearTyped();
    if (!onBoard) {
      window.location.assign(boardUrl);
    } else {
      restartIdle();
    }
  }
  function restartIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(idle, idleMs);
  }
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (type) {
    document.addEventListener(type, restartIdle, { passive: true });
  });
  // A page shown again from the back/forward cache keeps what was typed: clear it.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      clearTyped();
    }
  });
  restartIdle();

  // --- Never a stale board without saying so ---------------------------------------------------------------
  // The stream ends now and then and the browser reconnects in a few seconds: only a connection that stays
  // lost covers the screen. A tablet that is no longer paired says so, then shows the pairing screen.
  var overlay = document.querySelector("[data-kiosk-overlay]");
  var GRACE_MS = 6000;
  var RETRY_MS = 5000;
  var lostTimer = null;
  var retryTimer = null;
  var leaving = false;

  function cover(title, text) {
    if (!overlay) {
      return;
    }
    overlay.querySelector("[data-kiosk-overlay-title]").textContent = title;
    overlay.querySelector("[data-kiosk-overlay-text]").textContent = text;
    overlay.hidden = false;
  }
  function uncover() {
    if (overlay) {
      overlay.hidden = true;
    }
  }
  function unpaired() {
    if (leaving) {
      return;
    }
    leaving = true;
    cover("This tablet is no longer paired", "A coordinator unpaired it. The pairing screen opens in a moment.");
    setTimeout(function () {
      window.location.assign(boardUrl);
    }, 2500);
  }
  // Ask the board's own address as a live region does: 401 when the tablet's pairing has ended.
  function checkPairing() {
    return fetch(boardUrl, {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
    }).then(
      function (response) {
        if (response.status === 401) {
          unpaired();
        }
        return response.ok;
      },
      function () {
        return false; // the server can't be reached
      }
    );
  }
  // Ask for the stream itself and let it go as soon as it answers: 200 once it can carry events again.
  function streamAnswers() {
    var controller = new AbortController();
    return fetch(body.getAttribute("sse-connect"), {
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    }).then(
      function (response) {
        controller.abort();
        if (response.status === 401) {
          unpaired();
        }
        return response.ok;
      },
      function () {
        return false; // the server can't be reached
      }
    );
  }
  function lost() {
    cover(
      "This screen is not up to date",
      "Reconnecting… It will come back by itself. Staff can check people in and out from their own screens meanwhile."
    );
    clearInterval(retryTimer);
    // As soon as the stream answers again, a fresh page brings everything back at once (its stream, its
    // board), without waiting for the stream's own retries, which wait longer each time.
    retryTimer = setInterval(function () {
      streamAnswers().then(function (answers) {
        if (answers && !leaving) {
          window.location.reload();
        }
      });
    }, RETRY_MS);
  }

  if (body.dataset.live) {
    document.addEventListener("htmx:sseError", function () {
      checkPairing();
      if (!lostTimer && (!overlay || overlay.hidden)) {
        lostTimer = setTimeout(lost, GRACE_MS);
      }
    });
    document.addEventListener("htmx:sseOpen", function () {
      clearTimeout(lostTimer);
      lostTimer = null;
      clearInterval(retryTimer);
      if (!leaving) {
        uncover();
      }
    });
  }
})();
