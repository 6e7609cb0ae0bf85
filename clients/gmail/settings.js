// Settings shared by the panel and the options page: the Cadency address (synced
// with the rep's Chrome profile) and the API token (this computer only).
"use strict";

globalThis.CadencySettings = (() => {
  const URL_KEY = "cadencyUrl";
  const TOKEN_KEY = "cadencyToken";
  const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
  const TOKEN_SHAPE = /^[A-Za-z0-9_.~-]{8,200}$/;

  // The Cadency address as typed, as "https://host[:port][/path]" without a
  // trailing slash; throws an Error whose message tells the rep what to fix.
  function normaliseUrl(text) {
    let url;
    try {
      url = new URL(String(text).trim());
    } catch {
      throw new Error("Type the whole address of your Cadency, starting with https://");
    }
    const loopback = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
    if (url.protocol !== "https:" && !loopback) {
      throw new Error(
        "Use an https:// address (http:// only for Cadency on this computer: localhost or 127.0.0.1).",
      );
    }
    if (url.username || url.password) {
      throw new Error("Leave the user name and password out of the address.");
    }
    url.search = "";
    url.hash = "";
    return url.href.replace(/\/+$/, "");
  }

  async function cadencyUrl() {
    const stored = await chrome.storage.sync.get(URL_KEY);
    return stored[URL_KEY] || globalThis.CADENCY_DEFAULT_URL || "";
  }

  async function saveCadencyUrl(url) {
    await chrome.storage.sync.set({ [URL_KEY]: normaliseUrl(url) });
  }

  function onCadencyUrlChange(listener) {
    chrome.storage.onChanged.addListener((changes, area) => {
      if (area === "sync" && URL_KEY in changes) {
        listener();
      }
    });
  }

  function isToken(value) {
    return typeof value === "string" && TOKEN_SHAPE.test(value);
  }

  // The token is kept with the origin of the Cadency that issued it, and only
  // ever handed back to that origin: changing the address never leaks it.
  async function tokenFor(origin) {
    const stored = (await chrome.storage.local.get(TOKEN_KEY))[TOKEN_KEY];
    return stored && stored.origin === origin && isToken(stored.token) ? stored.token : null;
  }

  async function storeToken(origin, token) {
    await chrome.storage.local.set({ [TOKEN_KEY]: { origin, token } });
  }

  async function forgetToken() {
    await chrome.storage.local.remove(TOKEN_KEY);
  }

  return Object.freeze({
    normaliseUrl,
    cadencyUrl,
    saveCadencyUrl,
    onCadencyUrlChange,
    isToken,
    tokenFor,
    storeToken,
    forgetToken,
  });
})();
