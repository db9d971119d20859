// The several-choice widget (portal/widgets.py ChoicePicker): a filter box over the
// checkboxes, and the current choices as chips that each remove their choice. The checkboxes
// stay the form's fields, so a choice is only ever added or removed one at a time.
(function () {
  function setUp(picker) {
    if (picker.dataset.ready) {
      return;
    }
    picker.dataset.ready = "true";
    var filter = picker.querySelector("[data-choice-filter]");
    var chosen = picker.querySelector("[data-chosen]");
    var none = picker.querySelector("[data-choice-none]");
    var choices = Array.prototype.slice.call(picker.querySelectorAll(".choice"));

    function labelOf(choice) {
      return choice.querySelector("label").textContent.trim();
    }

    function showChosen() {
      chosen.textContent = "";
      var count = 0;
      choices.forEach(function (choice) {
        var box = choice.querySelector("input");
        if (!box.checked) {
          return;
        }
        count += 1;
        var chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip";
        chip.textContent = labelOf(choice);
        chip.setAttribute("aria-label", "Remove " + labelOf(choice));
        chip.addEventListener("click", function () {
          box.checked = false;
          showChosen();
          applyFilter();
          box.focus();
        });
        chosen.appendChild(chip);
      });
      if (count === 0) {
        var nothing = document.createElement("span");
        nothing.className = "muted";
        nothing.textContent = "none";
        chosen.appendChild(nothing);
      }
    }

    function applyFilter() {
      var words = filter.value.trim().toLowerCase();
      var shown = 0;
      choices.forEach(function (choice) {
        // A chosen item stays in sight whatever the filter says.
        var match = !words || choice.querySelector("input").checked
          || labelOf(choice).toLowerCase().indexOf(words) !== -1;
        choice.hidden = !match;
        shown += match ? 1 : 0;
      });
      none.hidden = shown > 0 || choices.length === 0;
    }

    filter.hidden = false;
    filter.addEventListener("input", applyFilter);
    // Enter in the filter box would submit the whole form: it picks the only match instead.
    filter.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") {
        return;
      }
      event.preventDefault();
      var visible = choices.filter(function (choice) {
        return !choice.hidden && !choice.querySelector("input").checked;
      });
      if (visible.length === 1) {
        visible[0].querySelector("input").checked = true;
        filter.value = "";
        showChosen();
        applyFilter();
      }
    });
    picker.addEventListener("change", showChosen);
    showChosen();
  }

  function setUpAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-choice-picker]"), setUp);
  }

  document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  document.addEventListener("htmx:load", function (event) { setUpAll(event.target); });
})();
