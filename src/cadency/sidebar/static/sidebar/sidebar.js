// The Cadency panel in a mail client (issue 7; the protocol is in docs/mail-clients.md).
//
// Gmail: the extension frames this page and posts
//   {type: "cadency:context", token, recipients} — accepted only from the origins
//   Cadency allows (CADENCY_SIDEBAR_ORIGINS); the page answers cadency:ready on load,
//   cadency:paired after pairing and cadency:forget on disconnect.
// Outlook: this page is the add-in's task pane; it reads the recipients with Office.js
//   and keeps the token in the add-in's roaming settings (else localStorage).
//
// Every data request carries the API token as a Bearer header and never a cookie.
// The HTML it shows comes from Cadency, which escapes every value; anything the
// script writes itself goes through textContent.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("sidebar-config").textContent);
  const panel = document.getElementById("sb-panel");
  const live = document.getElementById("sb-status");
  const dialog = document.getElementById("sb-confirm");
  const TOKEN_KEY = "cadencyToken";
  const POLL_MS = 2000;
  const MAX_RECIPIENTS = 20;
  const OUTLOOK = config.client === "outlook";

  const state = {
    token: null,
    pairedToken: null, // obtained by pairing in this page: kept until the host confirms it
    recipients: [],
    host: null, // the origin of the frame that sent the accepted context
    pairing: null,
    pollTimer: null,
    refreshTimer: null,
    loads: 0,
  };

  // --- origins ---------------------------------------------------------------

  function originPattern(text) {
    const parts = text.trim().replace(/\/+$/, "").split("*").map(function (part) {
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    });
    return new RegExp("^" + parts.join("[A-Za-z0-9.-]+") + "$", "i");
  }
  const allowedOrigins = config.origins.map(originPattern);

  function isAllowed(origin) {
    return typeof origin === "string" && origin !== "null" &&
      allowedOrigins.some(function (re) { return re.test(origin); });
  }

  function hostOrigin() {
    if (window.parent === window) return null;
    if (state.host) return state.host;
    const ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length && isAllowed(ancestors[0])) return ancestors[0];
    return null;
  }

  // --- showing things -------------------------------------------------------

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fromServer(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function say(text) {
    live.textContent = text;
  }

  function showHtml(html) {
    panel.replaceChildren(fromServer(html));
  }

  function showMessage(text) {
    panel.replaceChildren(el("p", { class: "sb-muted" }, text));
  }

  function focusNotice(root) {
    const notice = root && (root.matches("[data-notice]") ? root : root.querySelector("[data-notice]"));
    if (!notice) return;
    say(notice.textContent.trim());
    notice.focus();
  }

  // --- talking to Cadency -----------------------------------------------------

  function api(url, options) {
    const headers = Object.assign({}, (options && options.headers) || {});
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(url, Object.assign({}, options, {
      headers: headers, credentials: "omit", cache: "no-store",
    }));
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  function refreshSoon() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refresh, 150);
  }

  async function refresh() {
    const load = ++state.loads;
    panel.setAttribute("aria-busy", "true");
    const url = config.urls.panel + "?emails=" + encodeURIComponent(state.recipients.join(","));
    try {
      const response = await api(url, {});
      const html = await response.text();
      if (load !== state.loads || state.pairing) return;
      if (response.status === 401 && state.token) forgetToken();
      showHtml(html);
    } catch (error) {
      if (load === state.loads) showMessage("Cadency cannot be reached. Check your connection.");
    } finally {
      if (load === state.loads) panel.setAttribute("aria-busy", "false");
    }
  }

  // --- the panel's buttons ----------------------------------------------------

  function ask(question, onConfirm) {
    document.getElementById("sb-confirm-text").textContent = question;
    dialog.returnValue = "";
    dialog.onclose = function () { if (dialog.returnValue === "ok") onConfirm(); };
    dialog.showModal();
    document.getElementById("sb-confirm-ok").focus();
  }

  function confirmText(form) {
    const text = form.dataset.confirm || "";
    const select = form.querySelector("select");
    const chosen = select && select.selectedOptions[0] ? select.selectedOptions[0].textContent : "";
    return text.replace("{sequence}", chosen);
  }

  async function submit(form) {
    const card = form.closest("[data-card]") || form;
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    try {
      const response = await api(form.action, { method: "POST", body: new FormData(form) });
      const html = await response.text();
      if (response.status === 401) {
        if (state.token) forgetToken();
        showHtml(html);
        return;
      }
      const replacement = fromServer(html);
      const first = replacement.firstElementChild;
      card.replaceWith(replacement);
      focusNotice(first);
    } catch (error) {
      form.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
      const old = card.querySelector("[data-notice]");
      if (old) old.remove();
      const notice = el("p", { class: "sb-notice error", role: "alert", tabindex: "-1", "data-notice": "" },
        "Cadency cannot be reached; nothing was changed. Try again.");
      card.prepend(notice);
      focusNotice(notice);
    }
  }

  panel.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-sidebar-action")) return;
    event.preventDefault();
    const question = confirmText(form);
    if (question) ask(question, function () { submit(form); });
    else submit(form);
  });

  panel.addEventListener("click", function (event) {
    const button = event.target.closest("[data-action]");
    if (!button || !panel.contains(button)) return;
    const action = button.dataset.action;
    if (action === "pair") startPairing();
    else if (action === "cancel-pairing") {
      stopPairing();
      refresh();
    }
    else if (action === "disconnect") disconnect();
  });

  // --- the token: where the host keeps it -----------------------------------------

  function roamingSettings() {
    try {
      return (window.Office && Office.context && Office.context.roamingSettings) || null;
    } catch (error) {
      return null;
    }
  }

  function loadOutlookToken() {
    const settings = roamingSettings();
    const saved = settings ? settings.get(TOKEN_KEY) : null;
    if (typeof saved === "string" && saved) return saved;
    try {
      return window.localStorage.getItem(TOKEN_KEY);
    } catch (error) {
      return null;
    }
  }

  function saveOutlookToken(token) {
    const settings = roamingSettings();
    if (settings) {
      if (token) settings.set(TOKEN_KEY, token);
      else settings.remove(TOKEN_KEY);
      settings.saveAsync(function () {});
      return;
    }
    try {
      if (token) window.localStorage.setItem(TOKEN_KEY, token);
      else window.localStorage.removeItem(TOKEN_KEY);
    } catch (error) {
      // No storage: the token lasts as long as this pane.
    }
  }

  function storeToken(token) {
    state.token = token;
    state.pairedToken = token;
    if (OUTLOOK) {
      saveOutlookToken(token);
      return;
    }
    const host = hostOrigin();
    if (host) window.parent.postMessage({ type: "cadency:paired", token: token }, host);
  }

  function forgetToken() {
    state.token = null;
    state.pairedToken = null;
    if (OUTLOOK) {
      saveOutlookToken(null);
      return;
    }
    const host = hostOrigin();
    if (host) window.parent.postMessage({ type: "cadency:forget" }, host);
  }

  async function disconnect() {
    try {
      const response = await api(config.urls.disconnect, { method: "POST" });
      showHtml(await response.text());
    } catch (error) {
      showMessage("Cadency cannot be reached; the panel forgot its connection anyway.");
    }
    forgetToken();
    say("Disconnected from Cadency.");
  }

  // --- pairing (like the OAuth device flow) ------------------------------------

  function safeUrl(text) {
    try {
      const url = new URL(text, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function openApproval(popup, url) {
    if (popup && !popup.closed) {
      popup.location.href = url; // our own approval page: it may know its opener
      return;
    }
    const ui = OUTLOOK && window.Office && Office.context ? Office.context.ui : null;
    if (ui && typeof ui.openBrowserWindow === "function") ui.openBrowserWindow(url);
    else window.open(url, "_blank", "noopener");
  }

  async function startPairing() {
    stopPairing();
    // Opened during the click, so popup blockers let it through; pointed at the
    // approval page once Cadency has given it.
    const popup = OUTLOOK ? null : window.open("about:blank", "_blank");
    let started;
    try {
      const response = await postJson(config.urls.pairing, { client: config.client });
      if (!response.ok) throw new Error("HTTP " + response.status);
      started = await response.json();
    } catch (error) {
      if (popup) popup.close();
      pairingFailed("Cadency cannot be reached. Check your connection and try again.");
      return;
    }
    const url = safeUrl(started.approve_url);
    if (!url || typeof started.pairing !== "string" || typeof started.code !== "string") {
      if (popup) popup.close();
      pairingFailed("Cadency answered something unexpected. Try again.");
      return;
    }
    state.pairing = {
      secret: started.pairing,
      code: started.code,
      url: url,
      expiresAt: Date.now() + Number(started.expires_in || 600) * 1000,
    };
    showPairing(state.pairing);
    openApproval(popup, url);
    schedulePoll();
  }

  function showPairing(pairing) {
    const section = el("section", { class: "sb-pairing", "aria-labelledby": "sb-pairing-title" });
    const link = el("a", { href: pairing.url, target: "_blank", rel: "noopener" },
      "Open the approval page");
    const again = el("p", { class: "sb-small" }, "No window opened? ");
    again.append(link);
    section.append(
      el("h1", { id: "sb-pairing-title", class: "sb-title" }, "Approve in Cadency"),
      el("p", {}, "Sign in to Cadency in the new window, check that it shows this code, and click Connect:"),
      el("p", { class: "sb-code", "data-pairing-code": "" }, pairing.code),
      again,
      el("p", { class: "sb-muted sb-small" }, "Waiting for your approval… The code is valid for 10 minutes."),
      el("button", { type: "button", class: "sb-button secondary", "data-action": "cancel-pairing" },
        "Cancel"),
    );
    panel.replaceChildren(section);
    say("Your code is " + pairing.code + ". Approve it in the Cadency window.");
  }

  function pairingFailed(reason) {
    stopPairing();
    const section = el("section", { class: "sb-connect", "aria-labelledby": "sb-connect-title" });
    section.append(
      el("h1", { id: "sb-connect-title", class: "sb-title" }, "Connect to Cadency"),
      el("p", { role: "alert" }, reason),
      el("button", { type: "button", class: "sb-button", "data-action": "pair" }, "Start again"),
    );
    panel.replaceChildren(section);
  }

  function stopPairing() {
    clearTimeout(state.pollTimer);
    state.pairing = null;
  }

  function schedulePoll() {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    const pairing = state.pairing;
    if (!pairing) return;
    if (Date.now() > pairing.expiresAt) {
      pairingFailed("The code expired before it was approved.");
      return;
    }
    let response;
    let body = {};
    try {
      response = await postJson(config.urls.claim, { pairing: pairing.secret });
      body = await response.json();
    } catch (error) {
      if (state.pairing === pairing) schedulePoll(); // offline for a moment: keep trying
      return;
    }
    if (state.pairing !== pairing) return;
    if (response.status === 202) {
      schedulePoll();
    } else if (response.status === 200 && typeof body.token === "string") {
      state.pairing = null;
      storeToken(body.token);
      say("Connected to Cadency as " + (body.user || "you") + ".");
      refresh();
    } else if (response.status === 410) {
      pairingFailed("The code expired or was already used.");
    } else {
      pairingFailed("Cadency does not know this code any more.");
    }
  }

  // --- Gmail: the context comes from the extension ---------------------------------

  function addressesOf(list) {
    if (!Array.isArray(list)) return [];
    return list.map(function (entry) {
      if (typeof entry === "string") return entry.trim();
      return entry && typeof entry === "object" ? String(entry.emailAddress || entry.email || "") : "";
    }).filter(Boolean).slice(0, MAX_RECIPIENTS);
  }

  function onMessage(event) {
    if (!isAllowed(event.origin)) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.type !== "cadency:context") return;
    state.host = event.origin;
    const token = typeof data.token === "string" && data.token.trim() ? data.token.trim() : null;
    state.token = token || state.pairedToken;
    state.recipients = addressesOf(data.recipients);
    if (token && state.pairing) stopPairing();
    if (!state.pairing) refreshSoon();
  }

  function startGmail() {
    window.addEventListener("message", onMessage);
    if (window.parent === window) {
      showMessage("This panel opens from the Cadency extension, next to a message you write in Gmail.");
      return;
    }
    window.parent.postMessage({ type: "cadency:ready" }, "*"); // carries no data
  }

  // --- Outlook: the context comes from Office.js -------------------------------------

  function readField(field) {
    return new Promise(function (resolve) {
      if (!field) return resolve([]);
      if (Array.isArray(field)) return resolve(field);
      if (typeof field.getAsync !== "function") return resolve([]);
      const succeeded = Office.AsyncResultStatus ? Office.AsyncResultStatus.Succeeded : "succeeded";
      field.getAsync(function (result) {
        resolve(result && result.status === succeeded && Array.isArray(result.value) ? result.value : []);
      });
    });
  }

  function readRecipients(item) {
    return Promise.all([readField(item.to), readField(item.cc)]).then(function (lists) {
      return addressesOf(lists[0].concat(lists[1]));
    });
  }

  function startOutlook() {
    if (!window.Office || typeof Office.onReady !== "function") {
      showMessage("Office.js did not load. Open this pane from the Cadency add-in in Outlook.");
      return;
    }
    let started = false;
    function begin() {
      if (started) return;
      started = true;
      state.token = loadOutlookToken();
      const mailbox = Office.context && Office.context.mailbox;
      const item = mailbox ? mailbox.item : null;
      if (!item) {
        refresh();
        return;
      }
      function update() {
        readRecipients(item).then(function (addresses) {
          state.recipients = addresses;
          if (!state.pairing) refreshSoon();
        });
      }
      update();
      if (typeof item.addHandlerAsync === "function" && Office.EventType) {
        item.addHandlerAsync(Office.EventType.RecipientsChanged, update);
      }
    }
    const ready = Office.onReady(begin);
    if (ready && typeof ready.then === "function") ready.then(begin);
  }

  if (OUTLOOK) startOutlook();
  else startGmail();
})();
