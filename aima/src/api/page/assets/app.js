// aima status page: keeps the page's live region current without a reload. It fetches this
// same page (same origin, the session cookie goes along) and swaps in its <main>: the server
// renders and escapes everything, so the script never builds markup from data. It refreshes
// when the daemon's event stream reports a change and, as a fallback, every 2 seconds.
// It reads only: it never sends anything but GET.
"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live || live.dataset.refresh !== "live") {
    return;
  }
  var state = document.getElementById("live-state");
  var busy = false;

  function mark(text, cls) {
    if (state) {
      state.textContent = text;
      state.className = "live-state " + cls;
    }
  }

  function refresh() {
    if (busy) {
      return;
    }
    busy = true;
    fetch(location.pathname, {
      method: "GET",
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    })
      .then(function (res) {
        if (res.status === 401) {
          location.reload();
          return null;
        }
        return res.text().then(function (body) {
          var doc = new DOMParser().parseFromString(body, "text/html");
          var next = doc.getElementById("live");
          if (next) {
            live.replaceChildren.apply(live, Array.prototype.slice.call(next.childNodes));
          }
          mark(res.ok ? "live" : "error " + res.status, res.ok ? "ok" : "bad");
        });
      })
      .catch(function () {
        mark("daemon unreachable", "bad");
      })
      .then(function () {
        busy = false;
      });
  }

  mark("live", "ok");
  window.setInterval(refresh, 2000);
})();
