// The panel shown beside a Gmail compose window. It frames Cadency's sidebar
// ({CADENCY}/sidebar/?client=gmail) and speaks the sidebar protocol with it
// (docs/mail-clients.md): it hands the sidebar the recipients and the stored
// API token, and stores or forgets the token when the sidebar asks.
//
// Gmail's page (through content.js) only ever sends this panel recipient
// addresses; the token stays in the extension and goes only to Cadency's origin.
"use strict";

(() => {
  const settings = globalThis.CadencySettings;
  const READY_TIMEOUT_MS = 15000;
  const frame = document.getElementById("sidebar");
  const notice = document.getElementById("notice");
  const noticeText = document.getElementById("notice-text");
  const noticeSettings = document.getElementById("notice-settings");

  let recipients = [];
  let cadency = null; // { base, origin } of the framed sidebar
  let sidebarReady = false;
  let readyTimer = 0;

  // The pages this panel may be embedded in: those its content script runs on.
  function allowedParentOrigins() {
    const origins = new Set();
    for (const script of chrome.runtime.getManifest().content_scripts || []) {
      for (const pattern of script.matches) {
        origins.add(new URL(pattern.replace(/\*$/, "")).origin);
      }
    }
    return origins;
  }

  const parentOrigin = location.ancestorOrigins && location.ancestorOrigins[0];
  const embedded = window.parent !== window && allowedParentOrigins().has(parentOrigin);

  function showNotice(text, { withSettings = false } = {}) {
    noticeText.textContent = text;
    noticeSettings.hidden = !withSettings;
    notice.hidden = false;
  }

  async function sendContext() {
    if (!sidebarReady || !cadency) {
      return;
    }
    const token = await settings.tokenFor(cadency.origin);
    frame.contentWindow.postMessage(
      { type: "cadency:context", token, recipients },
      cadency.origin,
    );
  }

  async function loadSidebar() {
    sidebarReady = false;
    window.clearTimeout(readyTimer);
    const base = await settings.cadencyUrl();
    if (!base) {
      cadency = null;
      frame.hidden = true;
      frame.removeAttribute("src");
      showNotice("Set the address of your Cadency to see your recipients here.", {
        withSettings: true,
      });
      return;
    }
    cadency = { base, origin: new URL(base).origin };
    notice.hidden = true;
    frame.hidden = false;
    frame.src = `${base}/sidebar/?client=gmail`;
    readyTimer = window.setTimeout(() => {
      if (!sidebarReady) {
        showNotice(`Cadency did not answer at ${base}. Check the address in the settings.`, {
          withSettings: true,
        });
      }
    }, READY_TIMEOUT_MS);
  }

  async function onSidebarMessage(message) {
    if (message.type === "cadency:ready") {
      sidebarReady = true;
      window.clearTimeout(readyTimer);
      notice.hidden = true;
      await sendContext();
    } else if (message.type === "cadency:paired" && settings.isToken(message.token)) {
      await settings.storeToken(cadency.origin, message.token);
    } else if (message.type === "cadency:forget") {
      await settings.forgetToken();
    }
  }

  function onGmailMessage(message) {
    if (message.type === "cadency-panel:recipients" && Array.isArray(message.recipients)) {
      recipients = message.recipients.filter((address) => typeof address === "string");
      sendContext();
    }
  }

  window.addEventListener("message", (event) => {
    const message = event.data;
    if (typeof message !== "object" || message === null || typeof message.type !== "string") {
      return;
    }
    if (embedded && event.source === window.parent && event.origin === parentOrigin) {
      onGmailMessage(message);
    } else if (
      cadency &&
      event.source === frame.contentWindow &&
      event.origin === cadency.origin
    ) {
      onSidebarMessage(message);
    }
  });

  function openSettings() {
    chrome.runtime.openOptionsPage();
  }

  document.getElementById("open-settings").addEventListener("click", openSettings);
  noticeSettings.addEventListener("click", openSettings);
  document.getElementById("collapse").addEventListener("click", () => {
    if (embedded) {
      window.parent.postMessage({ type: "cadency-panel:collapse" }, parentOrigin);
    }
  });

  settings.onCadencyUrlChange(loadSidebar);
  loadSidebar();
  if (embedded) {
    window.parent.postMessage({ type: "cadency-panel:ready" }, parentOrigin);
  }
})();
