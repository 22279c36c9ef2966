// aima status page: keeps the page's live region current without a reload. It fetches this
// same page (same origin, the session cookie goes along) and swaps in its <main>: the server
// renders and escapes everything, so the script never builds markup from data.
//
// When to fetch: on every change the daemon's event stream (/page/events, server-sent events)
// reports; while that stream is not open (not yet, or refused, or broken), every 2 seconds
// instead; and every 30 seconds regardless, so relative times ("up 3m") stay current.
// It only reads: it sends nothing but GET.
"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live || live.dataset.refresh !== "live") {
    return;
  }
  var state = document.getElementById("live-state");
  var busy = false;
  var again = false;
  var mode = "polling";
  var poller = null;

  function mark(text, ok) {
    if (state) {
      state.textContent = text;
      state.className = "live-state " + (ok ? "ok" : "bad");
      state.dataset.mode = mode;
    }
  }

  function refresh() {
    if (busy) {
      again = true;
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
          mark(res.ok ? "live" : "error " + res.status, res.ok);
        });
      })
      .catch(function () {
        mark("daemon unreachable", false);
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function poll(on) {
    mode = on ? "polling" : "events";
    if (on && poller === null) {
      poller = window.setInterval(refresh, 2000);
    } else if (!on && poller !== null) {
      window.clearInterval(poller);
      poller = null;
    }
  }

  poll(true);
  mark("live", true);
  window.setInterval(refresh, 30000);
  if (window.EventSource) {
    var events = new EventSource("/page/events");
    events.addEventListener("service", refresh);
    events.onopen = function () {
      poll(false);
      refresh(); // what changed before the stream opened
    };
    events.onerror = function () {
      poll(true);
      mark("live", true);
    };
  }
})();
