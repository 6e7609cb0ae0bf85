// The Enrollments tab: select rows (or every enrollment matching the filter) and
// unenroll them; the confirm dialog (app.js) states exactly how many will end.
(function () {
  "use strict";
  const form = document.getElementById("bulk-unenroll");
  if (!form) return;
  const pageBox = document.getElementById("select-page");
  const allMatching = document.getElementById("all-matching");
  const selectAll = document.getElementById("select-all-matching");
  const clear = document.getElementById("clear-selection");
  const status = document.getElementById("selection-status");
  const button = document.getElementById("bulk-button");
  const matching = Number(form.dataset.matching);
  const actionableMatching = Number(form.dataset.actionableMatching);

  function boxes() {
    return Array.from(document.querySelectorAll('input[name="ids"][form="bulk-unenroll"]'));
  }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // What the submit would do: [how many end, how many are selected].
  function selection() {
    if (allMatching.value === "1") return [actionableMatching, matching];
    const checked = boxes().filter(function (b) { return b.checked; });
    const ending = checked.filter(function (b) { return b.dataset.actionable === "1"; });
    return [ending.length, checked.length];
  }

  function question() {
    const [ending, selected] = selection();
    const left = selected - ending;
    let text = "Unenroll " + plural(ending, "enrollment", "enrollments") +
      (allMatching.value === "1" ? " — every open one matching this filter that you may act on" : "") + "?";
    if (left > 0) {
      text += " " + left + " of the selected will be left as they are" +
        " (already ended, or enrolled by another rep).";
    }
    return text + " Their upcoming steps are cancelled; history and reports are kept.";
  }

  function update() {
    const all = boxes();
    const checked = all.filter(function (b) { return b.checked; });
    const wholePage = all.length > 0 && checked.length === all.length;
    if (pageBox) {
      pageBox.checked = wholePage;
      pageBox.indeterminate = checked.length > 0 && !wholePage;
    }
    if (!wholePage) allMatching.value = "";
    const [ending, selected] = selection();
    selectAll.hidden = !(wholePage && matching > all.length && allMatching.value !== "1");
    clear.hidden = selected === 0;
    button.disabled = ending === 0;
    if (allMatching.value === "1") {
      status.textContent = "All " + matching + " matching are selected; " + ending +
        " of them are open and yours to unenroll.";
    } else if (selected > 0) {
      status.textContent = selected + " selected on this page; " + ending + " can be unenrolled.";
    } else {
      status.textContent = matching + " matching; select rows to unenroll them.";
    }
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target === pageBox) {
      boxes().forEach(function (b) { b.checked = pageBox.checked; });
    } else if (!(target instanceof HTMLInputElement) || target.name !== "ids") {
      return;
    }
    update();
  });
  selectAll.addEventListener("click", function () {
    allMatching.value = "1";
    update();
    clear.focus();  // the button just clicked is hidden now
  });
  clear.addEventListener("click", function () {
    allMatching.value = "";
    boxes().forEach(function (b) { b.checked = false; });
    update();
    if (pageBox) pageBox.focus();
  });

  const previous = window.cadencyConfirmText;
  window.cadencyConfirmText = function (target) {
    if (target === form) return question();
    return typeof previous === "function" ? previous(target) : target.dataset.confirm;
  };
  update();
})();
