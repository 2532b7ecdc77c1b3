// The inbox's service worker: shows a pushed message as a notification, even with every page of
// the inbox closed, and opens it in the inbox when tapped.
"use strict";

self.addEventListener("push", function (event) {
  var message = {};
  try { message = event.data ? event.data.json() : {}; } catch (e) { message = {}; }
  event.waitUntil(self.registration.showNotification(message.title || "Sutra Notify", {
    body: message.body || "",
    tag: message.reference,
    data: { url: message.url || "/inbox" }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data.url));
});
