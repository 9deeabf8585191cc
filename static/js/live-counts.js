// Keeps "places left · waiting" current on a page of classes while it is open, so a
// member sees a place free up without reloading. The page works without it.
(function () {
  var script = document.currentScript;
  var url = script && script.dataset.url;
  var cells = document.querySelectorAll("[data-session-counts]");
  if (!url || !cells.length || !window.fetch) return;
  var ids = Array.prototype.map.call(cells, function (cell) {
    return cell.dataset.sessionCounts;
  });
  var every = 20000;

  function refresh() {
    if (document.hidden) return;
    fetch(url + "?ids=" + ids.join(","), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        cells.forEach(function (cell) {
          var text = data.counts[cell.dataset.sessionCounts];
          if (text !== undefined && cell.textContent !== text) cell.textContent = text;
        });
      })
      .catch(function () {});
  }

  setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
})();
