// Offline use on a phone: a service worker keeps the last copy of each admin page opened.
(function () {
  var banner = document.getElementById("offline");
  function show() { if (banner) { banner.hidden = navigator.onLine; } }
  addEventListener("online", show);
  addEventListener("offline", show);
  show();
  if (document.body.hasAttribute("data-signed-out") && "caches" in window) {
    caches.delete("cautiva-admin");
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/admin/sw.js", { scope: "/admin" });
  }
})();
