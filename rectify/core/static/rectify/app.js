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

// A form whose submit button carries data-busy: disable it once sent and say it is working, so a
// second click cannot send the same step twice.
document.addEventListener("submit", function (event) {
  var button = event.submitter || event.target.querySelector("button[data-busy]");
  if (!button || !button.hasAttribute("data-busy") || event.defaultPrevented) {
    return;
  }
  window.setTimeout(function () {
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy");
  }, 0);
});
