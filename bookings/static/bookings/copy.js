// "Copy" beside a read-only address: shown only where the browser can copy, and says
// so when it has (the status line is read out by screen readers).
(function () {
  if (!navigator.clipboard) return;
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyTarget + "-status");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = button.dataset.copied || "";
      }, function () {
        field.select();
      });
    });
  });
})();
