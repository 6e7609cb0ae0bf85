// Forms carrying data-confirm="question" ask in a <dialog> before they submit.
(function () {
  "use strict";
  function ask(question, onConfirm) {
    const dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-text").textContent = question;
    dialog.returnValue = "";
    dialog.onclose = function () { if (dialog.returnValue === "ok") onConfirm(); };
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
  }
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (form.dataset.confirmed === "yes") return;
    event.preventDefault();
    const question = typeof window.cadencyConfirmText === "function"
      ? window.cadencyConfirmText(form) : form.dataset.confirm;
    ask(question, function () {
      form.dataset.confirmed = "yes";
      form.requestSubmit(event.submitter || undefined);
      delete form.dataset.confirmed;
    });
  });
})();
