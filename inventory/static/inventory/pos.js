// The till: member suggestions as one types (pos/members/), and a running total of
// the lines and scanned codes before tax. Without JavaScript the form still works.
(function () {
  "use strict";
  var form = document.getElementById("till-form");
  if (!form) return;
  var data = JSON.parse(document.getElementById("till-data").textContent);
  var search = form.querySelector("input[name=member_search]");
  var hidden = form.querySelector("input[name=member]");
  var list = document.getElementById("member-suggestions");
  var found = {};
  var timer = null;
  if (search && hidden && list && window.fetch) {
    search.addEventListener("input", function () {
      hidden.value = found[search.value] || "";
      clearTimeout(timer);
      if (search.value.trim().length < 2 || found[search.value]) return;
      timer = setTimeout(function () {
        fetch(form.dataset.membersUrl + "?q=" + encodeURIComponent(search.value), {
          credentials: "same-origin",
        })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (body) {
            list.textContent = "";
            body.results.forEach(function (m) {
              found[m.label] = String(m.id);
              var option = document.createElement("option");
              option.value = m.label;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  }
  var total = document.getElementById("till-total");
  function cents(price) { return Math.round(parseFloat(price) * 100); }
  function update() {
    var sum = 0;
    form.querySelectorAll("select[name^=product_]").forEach(function (select) {
      var n = select.name.split("_")[1];
      var qty = parseInt((form.querySelector("input[name=quantity_" + n + "]") || {}).value, 10);
      var price = data.prices[select.value];
      if (price && qty > 0) sum += cents(price) * qty;
    });
    var scan = form.querySelector("input[name=scan]");
    if (scan) {
      scan.value.replace(/,/g, " ").split(/\s+/).forEach(function (code) {
        var id = data.skus[code.toLowerCase()];
        if (id && data.prices[id]) sum += cents(data.prices[id]);
      });
    }
    total.textContent = (sum / 100).toFixed(2);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
