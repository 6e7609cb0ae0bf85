// A stand-in for Office.js, for the Outlook task pane's browser tests and for
// trying the pane in a plain browser. Never served to users.
//
// Served in place of https://appsforoffice.microsoft.com/lib/1/hosted/office.js
// (the tests route that URL to this file), it implements the part of Outlook's
// compose API the Cadency sidebar uses: Office.onReady, the item's to / cc / bcc
// getAsync, addHandlerAsync(Office.EventType.RecipientsChanged), roamingSettings,
// requirements.isSetSupported and ui.openBrowserWindow / displayDialogAsync.
//
// Like Outlook, it learns the message from the page that hosts the pane, by
// postMessage: clients/harness/outlook-compose.html. Opened on its own (no host),
// it starts with no recipients; `officeHarness.setRecipients({to: [...]})` in the
// console then plays the host.
"use strict";

(() => {
  const PREFIX = "office-harness:";
  const SUPPORTED_MAILBOX = "1.13";
  const framed = window.parent !== window;
  const recipients = { to: [], cc: [], bcc: [] };
  const handlers = new Map();
  let roaming = {};
  let ready = false;
  let whenReady = [];

  function succeeded(value, asyncContext) {
    return { status: "succeeded", value, asyncContext, error: null };
  }

  function details(addresses) {
    return addresses.map((entry) => {
      const emailAddress = typeof entry === "string" ? entry : entry.emailAddress;
      const displayName = typeof entry === "string" ? entry : entry.displayName || emailAddress;
      return { displayName, emailAddress, recipientType: "other" };
    });
  }

  // Office's async methods take ([options], callback); options.asyncContext
  // comes back in the result.
  function splitArguments(optionsOrCallback, maybeCallback) {
    if (typeof optionsOrCallback === "function") {
      return { options: {}, callback: optionsOrCallback };
    }
    return { options: optionsOrCallback || {}, callback: maybeCallback };
  }

  function later(callback, result) {
    if (typeof callback === "function") {
      window.setTimeout(() => callback(result), 0);
    }
  }

  function recipientField(name) {
    return {
      getAsync(optionsOrCallback, maybeCallback) {
        const { options, callback } = splitArguments(optionsOrCallback, maybeCallback);
        later(callback, succeeded(details(recipients[name]), options.asyncContext));
      },
      setAsync(list, optionsOrCallback, maybeCallback) {
        const { options, callback } = splitArguments(optionsOrCallback, maybeCallback);
        recipients[name] = details(list);
        tellHost({ type: `${PREFIX}recipients-set`, field: name, recipients: recipients[name] });
        fire({ to: name === "to", cc: name === "cc", bcc: name === "bcc" });
        later(callback, succeeded(undefined, options.asyncContext));
      },
    };
  }

  function fire(changedRecipientFields) {
    const event = { type: Office.EventType.RecipientsChanged, changedRecipientFields };
    for (const handler of handlers.get(Office.EventType.RecipientsChanged) || []) {
      window.setTimeout(() => handler(event), 0);
    }
  }

  function tellHost(message) {
    if (framed) {
      window.parent.postMessage(message, "*");
    }
  }

  function setRecipients(fields) {
    const changed = {};
    for (const name of ["to", "cc", "bcc"]) {
      if (Array.isArray(fields[name])) {
        changed[name] = JSON.stringify(details(fields[name])) !== JSON.stringify(recipients[name]);
        recipients[name] = details(fields[name]);
      } else {
        changed[name] = false;
      }
    }
    if (ready && (changed.to || changed.cc || changed.bcc)) {
      fire(changed);
    }
  }

  const roamingSettings = {
    get: (name) => (name in roaming ? roaming[name] : null),
    set: (name, value) => {
      roaming[name] = value;
    },
    remove: (name) => {
      delete roaming[name];
    },
    saveAsync(callback) {
      tellHost({ type: `${PREFIX}settings`, settings: { ...roaming } });
      if (!framed) {
        window.localStorage.setItem(`${PREFIX}settings`, JSON.stringify(roaming));
      }
      later(callback, succeeded(undefined));
    },
  };

  const item = {
    itemType: "message",
    to: recipientField("to"),
    cc: recipientField("cc"),
    bcc: recipientField("bcc"),
    subject: {
      getAsync(optionsOrCallback, maybeCallback) {
        const { options, callback } = splitArguments(optionsOrCallback, maybeCallback);
        later(callback, succeeded("", options.asyncContext));
      },
    },
    addHandlerAsync(eventType, handler, optionsOrCallback, maybeCallback) {
      const { options, callback } = splitArguments(optionsOrCallback, maybeCallback);
      handlers.set(eventType, [...(handlers.get(eventType) || []), handler]);
      later(callback, succeeded(undefined, options.asyncContext));
    },
    removeHandlerAsync(eventType, optionsOrCallback, maybeCallback) {
      const { options, callback } = splitArguments(optionsOrCallback, maybeCallback);
      handlers.delete(eventType);
      later(callback, succeeded(undefined, options.asyncContext));
    },
  };

  function versionAtMost(version, limit) {
    const [major, minor] = String(version || "1.1").split(".").map(Number);
    const [limitMajor, limitMinor] = limit.split(".").map(Number);
    return major < limitMajor || (major === limitMajor && (minor || 0) <= limitMinor);
  }

  function openBrowserWindow(url) {
    if (framed) {
      tellHost({ type: `${PREFIX}open`, url });
    } else {
      window.open(url, "_blank", "noopener");
    }
  }

  const Office = {
    HostType: { Outlook: "Outlook" },
    PlatformType: { OfficeOnline: "OfficeOnline" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { RecipientsChanged: "olkRecipientsChanged", ItemChanged: "olkItemSelectedChanged" },
    context: {
      host: "Outlook",
      platform: "OfficeOnline",
      displayLanguage: "en-US",
      roamingSettings,
      requirements: {
        isSetSupported: (name, version) =>
          name === "Mailbox" && versionAtMost(version, SUPPORTED_MAILBOX),
      },
      ui: {
        openBrowserWindow,
        displayDialogAsync(url, optionsOrCallback, maybeCallback) {
          const { callback } = splitArguments(optionsOrCallback, maybeCallback);
          openBrowserWindow(url);
          later(callback, succeeded({ close() {}, addEventHandler() {} }));
        },
      },
      mailbox: {
        item,
        userProfile: { displayName: "Rep Example", emailAddress: "rep@example.test" },
        diagnostics: { hostName: "OutlookWebApp", hostVersion: "harness" },
      },
    },
    onReady(callback) {
      const info = { host: "Outlook", platform: "OfficeOnline" };
      return new Promise((resolve) => {
        const done = () => {
          if (typeof callback === "function") {
            callback(info);
          }
          resolve(info);
        };
        if (ready) {
          done();
        } else {
          whenReady.push(done);
        }
      });
    },
  };

  function becomeReady() {
    if (ready) {
      return;
    }
    ready = true;
    if (typeof Office.initialize === "function") {
      Office.initialize("inserted");
    }
    const waiting = whenReady;
    whenReady = [];
    waiting.forEach((done) => done());
  }

  window.addEventListener("message", (event) => {
    const message = event.data;
    if (!framed || event.source !== window.parent || !message || typeof message !== "object") {
      return;
    }
    if (message.type === `${PREFIX}init`) {
      roaming = { ...(message.settings || {}) };
      setRecipients(message);
      becomeReady();
    } else if (message.type === `${PREFIX}recipients`) {
      setRecipients(message);
    }
  });

  window.Office = Office;
  window.officeHarness = Object.freeze({ setRecipients, roaming: () => ({ ...roaming }) });
  if (framed) {
    tellHost({ type: `${PREFIX}hello` });
  } else {
    roaming = JSON.parse(window.localStorage.getItem(`${PREFIX}settings`) || "{}");
    window.setTimeout(becomeReady, 0);
  }
})();
