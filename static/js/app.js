// Browser notifications for live inbox items, with the patient's permission.
(function () {
  "use strict";
  function supported() { return "Notification" in window; }

  function setUpButton() {
    var button = document.getElementById("enable-browser-notifications");
    if (!button || !supported() || Notification.permission !== "default") { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function () { button.hidden = true; });
    });
  }

  // The live fragment carries the new item's title on the badge it swaps in.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "unread-badge") { return; }
    var title = target.getAttribute("data-live-title");
    if (!title || !supported() || Notification.permission !== "granted") { return; }
    var note = new Notification(title, { body: target.getAttribute("data-live-body") || "" });
    var url = target.getAttribute("data-live-url");
    note.onclick = function () { window.focus(); if (url) { window.location.href = url; } };
  });

  document.addEventListener("DOMContentLoaded", setUpButton);
})();
