// riskgate console: live updates. The page follows the console's server-sent events from the log
// position it was rendered at; each change that concerns it re-fetches the page and swaps its <main>,
// without a reload. EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.
(function () {
  "use strict";
  var body = document.body;
  var status = document.getElementById("live-status");
  var device = body.getAttribute("data-device");
  var source = new EventSource("/live?after=" + encodeURIComponent(body.getAttribute("data-after") || "0"));
  var busy = false, again = false;
  function show(text) { if (status) { status.textContent = text; } }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "live" } })
      .then(function (response) {
        // A session that expired meanwhile redirects to the sign-in form: go there.
        if (response.redirected) { window.location.href = response.url; }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        var current = document.querySelector("main");
        if (fresh && current) { current.replaceWith(fresh); }
      })
      .catch(function () { show("live: update failed, retrying"); })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  source.addEventListener("open", function () { show("live"); });
  source.addEventListener("error", function () { show("live: reconnecting…"); });
  source.addEventListener("change", function (message) {
    var change = JSON.parse(message.data);
    if (!device || change.device === null || change.device === device) { refresh(); }
  });
  source.addEventListener("reload", function () { window.location.reload(); });
})();
