// Fields that apply only to some answers of another field (portal.forms.show_only_when):
// a field marked data-shown-when="budgeting_method=timeslices" shows only while that field
// holds one of the listed values. Its whole row hides (label, help, errors), and comes back
// with what it held. Without this script every field shows, and the form ignores what does
// not apply.
(function () {
  function rowOf(input) {
    // Django's form rendering puts each field, with its label and help, in a <div>.
    return input.closest("form > div") || input.parentElement;
  }

  function currentValue(form, name) {
    var controls = form.querySelectorAll('[name="' + name + '"]');
    for (var index = 0; index < controls.length; index += 1) {
      var control = controls[index];
      if ((control.type === "radio" || control.type === "checkbox") && !control.checked) continue;
      return control.value;
    }
    return "";
  }

  function setUp(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-shown-when]"), function (input) {
      var form = input.form;
      if (!form || input.dataset.conditionReady) return;
      input.dataset.conditionReady = "true";
      var rule = input.dataset.shownWhen.split("=");
      var name = rule[0];
      var values = rule[1].split(",");
      var row = rowOf(input);
      function apply() { row.hidden = values.indexOf(currentValue(form, name)) === -1; }
      form.addEventListener("change", function (event) {
        if (event.target.name === name) apply();
      });
      apply();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
})();
