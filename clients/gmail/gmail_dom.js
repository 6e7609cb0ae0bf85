// Everything Cadency reads from Gmail's page, in one place.
//
// Gmail's markup is not a public API: Google renames classes and reshapes the
// compose window without notice. Every selector the extension depends on lives
// in this file and nowhere else, so when Gmail changes, this is the only file to
// edit. To re-check a selector: open a compose window in Gmail, add a recipient,
// and inspect it with DevTools (right click on the chip > Inspect).
//
// The test page clients/harness/gmail-compose.html reproduces the markup these
// selectors expect (both the older and the newer Gmail markup); update it
// together with this file.
"use strict";

globalThis.CadencyGmailDom = (() => {
  // A compose window. The "New message" pop-up (docked at the bottom right) and
  // the full-screen compose are role="dialog"; an inline reply inside a thread
  // is not a dialog and sits in a container of class "M9".
  const COMPOSE_WINDOW = 'div[role="dialog"], div.M9';

  // The fields where the rep types addresses (To, Cc, Bcc). Older Gmail uses a
  // <textarea name="to">; newer Gmail an <input> with a "peoplekit-id" whose
  // aria-label is "To recipients" / "Cc recipients" (translated in other
  // languages, so the name and peoplekit attributes are tried first).
  const RECIPIENT_FIELD = [
    'textarea[name="to"]',
    'textarea[name="cc"]',
    'textarea[name="bcc"]',
    'input[name="to"]',
    'input[name="cc"]',
    'input[name="bcc"]',
    "input[peoplekit-id]",
    'input[aria-label*="recipients" i]',
  ].join(", ");

  // A recipient already turned into a chip. Older chips carry the address in an
  // "email" attribute (<span email="jane@acme.test">Jane Doe</span>); newer ones
  // in "data-hovercard-id" (<div data-hovercard-id="jane@acme.test">).
  const RECIPIENT_CHIP = "[email], [data-hovercard-id]";
  const CHIP_ADDRESS_ATTRIBUTES = ["email", "data-hovercard-id"];

  // The message body and quoted text: an address in there is not a recipient.
  const MESSAGE_BODY = '[contenteditable="true"], [g_editable="true"], .gmail_quote';

  // What separates addresses typed in a recipient field.
  const SEPARATORS = /[,;\n]/;
  const ADDRESS = /^[^\s@<>(),;:"[\]]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
  const ADDRESS_IN_TEXT = /[^\s@<>(),;:"[\]]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

  function isAddress(text) {
    return typeof text === "string" && ADDRESS.test(text.trim());
  }

  function isShown(element) {
    return element.isConnected && element.getClientRects().length > 0;
  }

  // The open compose windows: outermost matches that hold a recipient field.
  function composeWindows(root) {
    const candidates = [...root.querySelectorAll(COMPOSE_WINDOW)].filter(
      (element) => isShown(element) && element.querySelector(RECIPIENT_FIELD),
    );
    return candidates.filter(
      (element) => !candidates.some((other) => other !== element && other.contains(element)),
    );
  }

  // Addresses typed in a field but not yet turned into chips. While the rep is
  // still typing in the field, its last piece is unfinished and is left out.
  function typedAddresses(field, stillTyping) {
    const pieces = (field.value || "").split(SEPARATORS);
    if (stillTyping) {
      pieces.pop();
    }
    return pieces.flatMap((piece) => piece.match(ADDRESS_IN_TEXT) || []);
  }

  // The recipients of one compose window, lower-cased, each once, in page order.
  function recipientsOf(compose) {
    const found = [];
    for (const chip of compose.querySelectorAll(RECIPIENT_CHIP)) {
      if (chip.closest(MESSAGE_BODY)) {
        continue;
      }
      for (const attribute of CHIP_ADDRESS_ATTRIBUTES) {
        const value = chip.getAttribute(attribute);
        if (isAddress(value)) {
          found.push(value.trim());
          break;
        }
      }
    }
    const focused = compose.ownerDocument.activeElement;
    for (const field of compose.querySelectorAll(RECIPIENT_FIELD)) {
      found.push(...typedAddresses(field, field === focused));
    }
    return [...new Set(found.map((address) => address.toLowerCase()))];
  }

  return Object.freeze({ composeWindows, recipientsOf, isAddress });
})();
