/* A filter box over each long group of checkboxes ([data-filterable]): typing hides the options
   whose label does not contain the text; ticked options always stay in view, so choosing
   several things stays additive and nothing ticked is lost from sight. */
(function () {
  "use strict";

  var MIN_OPTIONS = 8;

  function enhance(group) {
    var options = Array.prototype.slice.call(group.querySelectorAll("label"));
    if (options.length < MIN_OPTIONS) return;
    var legend = group.querySelector("legend");
    var input = document.createElement("input");
    input.type = "search";
    input.className = "checkbox-filter";
    input.placeholder = "Filter";
    input.setAttribute("aria-label", "Filter " + (legend ? legend.textContent.trim() : "options"));
    group.insertBefore(input, legend ? legend.nextSibling : group.firstChild);
    input.addEventListener("input", function () {
      var text = input.value.trim().toLowerCase();
      options.forEach(function (label) {
        var box = label.querySelector("input");
        var shown = !text || (box && box.checked) || label.textContent.toLowerCase().indexOf(text) !== -1;
        (label.parentElement.tagName === "DIV" ? label.parentElement : label).hidden = !shown;
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-filterable]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
