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

// Compose: pick a patient from the suggestions, and show only the parts of the form in use.
(function () {
  "use strict";
  function form() { return document.getElementById("compose-form"); }

  function checked(name) {
    var input = form().querySelector("input[name='" + name + "']:checked");
    return input ? input.value : null;
  }

  function sync() {
    if (!form()) { return; }
    var one = checked("recipient_mode") === "one";
    document.getElementById("patient-picker").hidden = !one;
    document.getElementById("channel-boxes").hidden = checked("channel_mode") !== "choose";
    var template = checked("content_mode") === "template";
    document.getElementById("free-text").hidden = template;
    document.getElementById("template-fields").hidden = !template;
    document.getElementById("schedule-fields").hidden = checked("send_mode") !== "later";
  }

  function choose(button) {
    var search = document.getElementById("patient_search");
    document.getElementById("patient_id").value = button.getAttribute("data-patient-id");
    search.value = button.getAttribute("data-patient-name");
    search.setAttribute("aria-expanded", "false");
    document.getElementById("patient-suggestions").innerHTML = "";
    search.focus();
    form().dispatchEvent(new CustomEvent("patient-chosen", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".suggestion");
    if (button) { choose(button); }
  });
  document.addEventListener("keydown", function (event) {
    var list = document.getElementById("patient-suggestions");
    if (!list || !form()) { return; }
    var options = Array.prototype.slice.call(list.querySelectorAll(".suggestion"));
    var index = options.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && (event.target.id === "patient_search" || index >= 0) && options.length) {
      event.preventDefault();
      options[Math.min(index + 1, options.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) { document.getElementById("patient_search").focus(); } else { options[index - 1].focus(); }
    } else if (event.key === "Escape" && list.innerHTML) {
      list.innerHTML = "";
      document.getElementById("patient_search").focus();
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.id === "patient_search") { document.getElementById("patient_id").value = ""; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "patient-suggestions") {
      document.getElementById("patient_search").setAttribute("aria-expanded", event.detail.target.children.length ? "true" : "false");
    }
  });
  document.addEventListener("change", sync);
  document.addEventListener("DOMContentLoaded", sync);
})();
