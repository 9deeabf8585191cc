// "Use my location": the browser's position fills the form and asks the server for the
// nearest branches. The form works without it (a position can be typed).
(function () {
  var button = document.getElementById("use-location");
  if (!button || !("geolocation" in navigator)) return;
  var status = document.getElementById("location-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById("lat").value = position.coords.latitude.toFixed(6);
      document.getElementById("lon").value = position.coords.longitude.toFixed(6);
      document.getElementById("nearest-form").submit();
    }, function () {
      button.disabled = false;
      if (status) status.textContent = button.dataset.denied || "";
    }, { timeout: 10000, maximumAge: 600000 });
  });
})();
