// Browser push: with the patient's permission, new messages reach this device even with the
// inbox closed. The service worker shows them; the subscription is posted to the app on every
// visit (registering is idempotent), so one the push service renewed is kept current.
(function () {
  "use strict";
  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function keyBytes(key) {
    var text = atob(key.replace(/-/g, "+").replace(/_/g, "/") + "====".slice(key.length % 4 || 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return bytes;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function keep(button, subscription) {
    return fetch(button.getAttribute("data-subscribe"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription)
    });
  }

  function setUp() {
    var button = document.getElementById("push-subscribe");
    if (!button || !supported() || Notification.permission === "denied") { return; }
    navigator.serviceWorker.register(button.getAttribute("data-worker")).then(function (registration) {
      return registration.pushManager.getSubscription().then(function (existing) {
        if (existing) { keep(button, existing); return; }
        button.hidden = false;
        button.addEventListener("click", function () {
          registration.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: keyBytes(button.getAttribute("data-key"))
          }).then(function (subscription) { return keep(button, subscription); })
            .finally(function () { button.hidden = true; });
        });
      });
    }).catch(function () { button.hidden = true; });
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();

// A refused form: move focus to the error summary, so a screen reader reads every problem first
// (the GOV.UK error summary pattern; its links then lead to each field).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
});

// Compose: pick a patient from the suggestions (an ARIA combobox: focus stays in the input,
// arrows move the active option, Enter or a click chooses it), and show only the parts of the
// form in use.
(function () {
  "use strict";
  function form() { return document.getElementById("compose-form"); }
  function search() { return document.getElementById("patient_search"); }
  function list() { return document.getElementById("patient-suggestions"); }
  function options() { return Array.prototype.slice.call(list().querySelectorAll(".suggestion")); }

  function checked(name) {
    var input = form().querySelector("input[name='" + name + "']:checked");
    return input ? input.value : null;
  }

  function sync() {
    if (!form()) { return; }
    document.getElementById("patient-picker").hidden = checked("recipient_mode") !== "one";
    document.getElementById("channel-boxes").hidden = checked("channel_mode") !== "choose";
    var template = checked("content_mode") === "template";
    document.getElementById("free-text").hidden = template;
    document.getElementById("template-fields").hidden = !template;
    var later = checked("send_mode") === "later";
    document.getElementById("schedule-fields").hidden = !later;
    document.getElementById("compose-submit").textContent = later ? "Schedule" : "Send";
  }

  function activate(option) {
    options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      search().setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      search().removeAttribute("aria-activedescendant");
    }
  }

  function close() {
    list().innerHTML = "";
    search().setAttribute("aria-expanded", "false");
    search().removeAttribute("aria-activedescendant");
  }

  function choose(option) {
    document.getElementById("patient_id").value = option.getAttribute("data-patient-id");
    search().value = option.getAttribute("data-patient-name");
    close();
    form().dispatchEvent(new CustomEvent("patient-chosen", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest(".suggestion");
    if (option && form()) { choose(option); }
  });
  document.addEventListener("keydown", function (event) {
    if (!form() || event.target !== search()) { return; }
    var all = options();
    var current = all.filter(function (o) { return o.getAttribute("aria-selected") === "true"; })[0];
    var index = all.indexOf(current);
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      activate(all[Math.min(index + 1, all.length - 1)]);
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      activate(index > 0 ? all[index - 1] : null);
    } else if (event.key === "Enter" && current) {
      event.preventDefault();  // choosing a patient must not submit the form
      choose(current);
    } else if (event.key === "Escape" && list().children.length) {
      event.preventDefault();
      close();
    }
  });
  document.addEventListener("input", function (event) {
    if (form() && event.target === search()) { document.getElementById("patient_id").value = ""; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (form() && event.detail.target === list()) {
      search().setAttribute("aria-expanded", options().length ? "true" : "false");
    }
  });
  document.addEventListener("change", sync);
  document.addEventListener("DOMContentLoaded", sync);
})();

// Progress bars carry their widths as data: the Content-Security-Policy allows no inline
// styles. Set them whenever htmx loads content (the page itself, and every polled refresh).
(function () {
  "use strict";
  htmx.onLoad(function (root) {
    var bars = root.querySelectorAll ? root.querySelectorAll("[data-percent]") : [];
    Array.prototype.forEach.call(bars, function (bar) {
      var percent = parseFloat(bar.getAttribute("data-percent"));
      bar.style.width = (isFinite(percent) ? Math.min(Math.max(percent, 0), 100) : 0) + "%";
    });
  });
})();

// Sign-ins end on the server (sign-out anywhere, deactivation, idle timeout). A page refreshing
// itself is not someone at the screen, so its polls say so. When the live inbox closes, the page
// asks whether it is still signed in (without counting as activity) and, if not, reloads to the
// sign-in page instead of reconnecting for ever.
(function () {
  "use strict";
  var POLL = { "X-Poll": "1" };  // app/views/auth.py
  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.elt && event.detail.elt.getAttribute("hx-trigger");
    if (trigger && /^every\s/.test(trigger)) { event.detail.headers["X-Poll"] = POLL["X-Poll"]; }
  });
  var leaving = false;  // the browser closes the socket itself when the page is left
  window.addEventListener("beforeunload", function () { leaving = true; });
  document.addEventListener("htmx:wsClose", function () {
    if (leaving) { return; }
    fetch(window.location.pathname, { method: "HEAD", headers: POLL, redirect: "manual", cache: "no-store" })
      .then(function (response) { if (response.type === "opaqueredirect") { window.location.reload(); } })
      .catch(function () { /* offline: htmx keeps trying to reconnect */ });
  });
})();
