// Offers "Use my location" where the browser can tell it; the form works without it.
(function () {
  var button = document.getElementById("use-location");
  if (!button || !("geolocation" in navigator)) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById("lat").value = position.coords.latitude.toFixed(6);
      document.getElementById("lon").value = position.coords.longitude.toFixed(6);
      document.getElementById("nearest-form").submit();
    });
  });
})();
