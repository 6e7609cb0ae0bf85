// The Cadency address this copy of the extension uses until one is saved in the
// options. Empty in the source tree; `make extensions` (clients/build.py) writes
// CADENCY_BASE_URL here in the built copy.
"use strict";
globalThis.CADENCY_DEFAULT_URL = "";
