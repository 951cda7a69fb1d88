// The /notify/push page: register the service worker, ask for permission, subscribe
// with the bridge's VAPID key and hand the subscription to the bridge with the link's
// token (which says whose notifications these are).
"use strict";

const root = document.getElementById("push");
const button = document.getElementById("subscribe");
const status = document.getElementById("status");

function say(text) {
  status.textContent = text; // text, never HTML
}

function bytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

// Hands a subscription (PushSubscription.toJSON()) to the bridge; true once stored.
async function save(subscription) {
  const response = await fetch("/notify/push/subscriptions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: root.dataset.token, subscription }),
  });
  if (response.ok) {
    say("Done: this browser shows your notifications from now on.");
    return true;
  }
  const why = (await response.text()).slice(0, 300);
  say(`The bridge did not take this browser's subscription: ${why}`);
  return false;
}

async function subscribe() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    say("This browser cannot show push notifications (or this page is not on https).");
    return;
  }
  say("Asking for permission…");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    say("Notifications are blocked for this site: allow them in the browser's site settings, then try again.");
    return;
  }
  await navigator.serviceWorker.register("/notify/sw.js", { scope: "/notify/" });
  const registration = await navigator.serviceWorker.ready;
  say("Subscribing…");
  let subscription;
  try {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: bytes(root.dataset.key),
    });
  } catch (error) {
    say(`This browser could not reach its push service (${error.message}).`);
    return;
  }
  await save(subscription.toJSON());
}

button.addEventListener("click", () => {
  button.disabled = true;
  subscribe()
    .catch((error) => say(`That did not work: ${error.message}`))
    .finally(() => {
      button.disabled = false;
    });
});

// Where no push service can be reached (a test machine), a test hands in a
// subscription it made, through the same request the page sends.
window.bridgePush = { save };
