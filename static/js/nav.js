// The menu button that folds the navigation away on narrow screens. Without this script
// the navigation simply stays open (the stylesheet only folds it on pages marked "js").
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector(".nav-toggle");
  if (!button) {
    return;
  }
  var header = button.closest(".site-header");
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("nav-open", open);
  });
});
