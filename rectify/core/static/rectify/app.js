// Progressive enhancement only: every page works without this file.
document.addEventListener("click", function (event) {
  // "再加一条措施": clone the empty measure row of a Django formset.
  var button = event.target.closest("[data-add-form]");
  if (button) {
    var prefix = button.getAttribute("data-add-form");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty");
    var html = template.innerHTML.replace(/__prefix__/g, total.value);
    template.insertAdjacentHTML("beforebegin", html);
    total.value = parseInt(total.value, 10) + 1;
    return;
  }
  var confirmable = event.target.closest("[data-confirm]");
  if (confirmable && !window.confirm(confirmable.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
