// The "Set away" confirmation names the counts of the chosen date (from the preview).
(function () {
  "use strict";
  const form = document.getElementById("absence-form");
  if (!form) return;
  const previous = window.cadencyConfirmText;
  window.cadencyConfirmText = function (target) {
    if (target === form) {
      const preview = form.querySelector("[data-question]");
      return preview ? preview.dataset.question : form.dataset.confirm;
    }
    return typeof previous === "function" ? previous(target) : target.dataset.confirm;
  };
})();
