// Keeps the flash-sale page's "N left" / "Sold out" current by polling a small
// JSON endpoint (no framework, no CDN). Announced politely to screen readers.
(function () {
  "use strict";
  var box = document.getElementById("sale-state");
  if (!box) return;
  var texts = JSON.parse(document.getElementById("sale-texts").textContent);
  var form = document.getElementById("buy-form");
  var line = box.querySelector(".sale-remaining");
  var url = box.dataset.statusUrl;
  var last = "";

  function render(state) {
    var key = state.status + ":" + state.remaining;
    if (key === last) return;
    last = key;
    var text;
    if (state.status === "sold_out") text = "<strong>" + texts.sold_out + "</strong>";
    else if (state.status === "closed") text = texts.closed;
    else if (state.status === "scheduled") text = texts.scheduled.replace("%(n)s", state.remaining);
    else text = texts.left.replace("%(n)s", state.remaining);
    line.innerHTML = text;
    if (form) form.hidden = state.status !== "open";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state) render(state);
        var closed = state && state.status === "closed";
        if (!closed) setTimeout(poll, document.hidden ? 10000 : 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
