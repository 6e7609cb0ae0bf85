// The options page: where the rep sets the address of their Cadency, and can
// disconnect (forget the API token this computer keeps).
"use strict";

(() => {
  const settings = globalThis.CadencySettings;
  const form = document.getElementById("settings");
  const input = document.getElementById("cadency-url");
  const status = document.getElementById("status");
  const connection = document.getElementById("connection");
  const disconnect = document.getElementById("disconnect");

  function say(text, { error = false } = {}) {
    status.textContent = text;
    status.classList.toggle("error", error);
    input.setAttribute("aria-invalid", String(error));
  }

  async function showConnection() {
    const base = await settings.cadencyUrl();
    const token = base ? await settings.tokenFor(new URL(base).origin) : null;
    connection.textContent = token ? `Connected to ${base}.` : "Not connected.";
    disconnect.disabled = !token;
  }

  // Access to the Cadency site is optional (the panel frames the sidebar, which
  // needs none); Chrome shows its own prompt and the answer only changes the note.
  function askForAccess(origin) {
    return chrome.permissions.request({ origins: [`${origin}/*`] }).then(
      (granted) => granted,
      () => false,
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let url;
    try {
      url = settings.normaliseUrl(input.value);
    } catch (error) {
      say(error.message, { error: true });
      input.focus();
      return;
    }
    // Asked first, while the click still counts as the rep's gesture.
    const access = askForAccess(new URL(url).origin);
    await settings.saveCadencyUrl(url);
    input.value = url;
    say(`Saved: the panel now uses ${url}.`);
    await showConnection();
    if (await access) {
      say(`Saved: the panel now uses ${url}. Access to the site granted.`);
    }
  });

  // Revokes the token at Cadency (the sidebar's own Disconnect does the same),
  // then forgets it here even if Cadency cannot be reached.
  async function revoke(base, token) {
    try {
      const response = await fetch(`${base}/sidebar/disconnect/`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
        credentials: "omit",
        cache: "no-store",
      });
      return response.ok;
    } catch {
      return false;
    }
  }

  disconnect.addEventListener("click", async () => {
    const base = await settings.cadencyUrl();
    const token = base ? await settings.tokenFor(new URL(base).origin) : null;
    const revoked = token ? await revoke(base, token) : false;
    await settings.forgetToken();
    await showConnection();
    say(
      revoked
        ? "Disconnected: Cadency revoked the key and this computer forgot it."
        : "Disconnected: this computer forgot its key, but Cadency could not be reached to " +
            "revoke it. Revoke it in Cadency under Account › API tokens.",
    );
  });

  (async () => {
    input.value = await settings.cadencyUrl();
    await showConnection();
  })();
})();
