// The content script on Gmail: watches compose windows, reads their recipients
// (through gmail_dom.js) and shows the Cadency panel beside the compose window
// the rep is working in. The panel (panel.html, an extension page) does the
// talking to Cadency; this script only ever hands it recipient addresses.
"use strict";

(() => {
  const dom = globalThis.CadencyGmailDom;
  const PANEL_URL = chrome.runtime.getURL("panel.html");
  const PANEL_ORIGIN = new URL(PANEL_URL).origin;
  const PANEL_WIDTH = 340;
  const PANEL_MAX_HEIGHT = 640;
  const GAP = 8;
  const SETTLE_MS = 150;

  let host = null;
  let panelFrame = null;
  let reopenButton = null;
  let panelReady = false;
  let collapsed = false;
  let lastActiveCompose = null;
  let sentRecipients = null;
  let pending = 0;

  const STYLE = `
    :host { all: initial; }
    .panel {
      position: fixed; z-index: 2147483000; width: ${PANEL_WIDTH}px;
      border: 0; border-radius: 8px; background: #fff;
      box-shadow: 0 4px 16px rgba(0, 0, 0, 0.25);
    }
    .reopen {
      position: fixed; z-index: 2147483000; padding: 6px 12px;
      border: 0; border-radius: 8px 8px 0 0; background: #2563eb; color: #fff;
      font: 600 13px/1.2 system-ui, sans-serif; cursor: pointer;
      box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25);
    }
    .reopen:focus-visible { outline: 3px solid #93c5fd; outline-offset: 2px; }
    [hidden] { display: none !important; }
  `;

  function buildPanel() {
    host = document.createElement("div");
    host.id = "cadency-panel-host";
    const shadow = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    panelFrame = document.createElement("iframe");
    panelFrame.className = "panel";
    panelFrame.title = "Cadency";
    panelFrame.src = PANEL_URL;
    reopenButton = document.createElement("button");
    reopenButton.type = "button";
    reopenButton.className = "reopen";
    reopenButton.textContent = "Cadency";
    reopenButton.setAttribute("aria-label", "Open the Cadency panel");
    reopenButton.hidden = true;
    reopenButton.addEventListener("click", () => {
      collapsed = false;
      update();
    });
    shadow.append(style, panelFrame, reopenButton);
    document.documentElement.append(host);
  }

  // The compose window the rep works in: the one holding the focus, else the one
  // last focused, else the newest.
  function activeCompose(composes) {
    const focused = composes.find((compose) => compose.contains(document.activeElement));
    if (focused) {
      lastActiveCompose = focused;
      return focused;
    }
    if (lastActiveCompose && composes.includes(lastActiveCompose)) {
      return lastActiveCompose;
    }
    return composes[composes.length - 1];
  }

  // Beside the compose window, on its left, bottoms aligned; where there is no
  // room on the left (a narrow window), docked at the right edge of the window.
  function place(compose) {
    const rect = compose.getBoundingClientRect();
    const height = Math.min(PANEL_MAX_HEIGHT, window.innerHeight - 2 * GAP);
    let left;
    let top;
    if (rect.left >= PANEL_WIDTH + 2 * GAP) {
      left = rect.left - PANEL_WIDTH - GAP;
      top = Math.max(GAP, Math.min(rect.bottom - height, window.innerHeight - height - GAP));
    } else {
      left = window.innerWidth - PANEL_WIDTH - GAP;
      top = GAP;
    }
    Object.assign(panelFrame.style, { left: `${left}px`, top: `${top}px`, height: `${height}px` });
    Object.assign(reopenButton.style, {
      left: `${left + PANEL_WIDTH - 96}px`,
      top: `${top + height - 30}px`,
    });
  }

  function sendRecipients(recipients) {
    const key = JSON.stringify(recipients);
    if (!panelReady || key === sentRecipients) {
      return;
    }
    sentRecipients = key;
    panelFrame.contentWindow.postMessage(
      { type: "cadency-panel:recipients", recipients },
      PANEL_ORIGIN,
    );
  }

  function update() {
    pending = 0;
    const composes = dom.composeWindows(document);
    if (composes.length === 0) {
      if (host) {
        panelFrame.hidden = true;
        reopenButton.hidden = true;
      }
      collapsed = false;
      return;
    }
    if (!host) {
      buildPanel();
    }
    const compose = activeCompose(composes);
    place(compose);
    panelFrame.hidden = collapsed;
    reopenButton.hidden = !collapsed;
    sendRecipients(dom.recipientsOf(compose));
  }

  function scheduleUpdate() {
    if (!pending) {
      pending = window.setTimeout(update, SETTLE_MS);
    }
  }

  window.addEventListener("message", (event) => {
    if (!panelFrame || event.source !== panelFrame.contentWindow) {
      return;
    }
    if (event.origin !== PANEL_ORIGIN || typeof event.data !== "object" || !event.data) {
      return;
    }
    if (event.data.type === "cadency-panel:ready") {
      panelReady = true;
      sentRecipients = null;
      update();
    } else if (event.data.type === "cadency-panel:collapse") {
      collapsed = true;
      update();
      reopenButton.focus();
    }
  });

  new MutationObserver(scheduleUpdate).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["email", "data-hovercard-id", "value"],
  });
  // Scrolling moves an inline reply; scroll events do not bubble but are captured.
  for (const type of ["input", "change", "focusin", "focusout", "scroll"]) {
    document.addEventListener(type, scheduleUpdate, true);
  }
  window.addEventListener("resize", scheduleUpdate);
  scheduleUpdate();
})();
