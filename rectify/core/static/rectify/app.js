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

// Text areas with a maxlength show how much is left (the limit itself holds without this file).
function addCounter(field) {
  var max = parseInt(field.getAttribute("maxlength"), 10);
  if (!max || field.dataset.counted) {
    return;
  }
  field.dataset.counted = "1";
  var counter = document.createElement("span");
  counter.className = "counter";
  counter.setAttribute("aria-live", "polite");
  var update = function () {
    counter.textContent = field.value.length + " / " + max;
    counter.classList.toggle("near", field.value.length > max * 0.9);
  };
  field.addEventListener("input", update);
  update();
  field.insertAdjacentElement("afterend", counter);
}
document.querySelectorAll("textarea[maxlength]").forEach(addCounter);

// A choice among many units: search and chips over a normal <select multiple data-chips="…">, which
// stays in the page (hidden) and is what the form sends; without this file the list box is used.
function enhanceChips(select) {
  var box = document.createElement("div");
  box.className = "chips";
  var chips = document.createElement("span");
  chips.className = "chip-list";
  var input = document.createElement("input");
  input.type = "search";
  input.placeholder = select.getAttribute("data-chips");
  input.setAttribute("aria-label", (select.getAttribute("aria-label") || "") + " 搜索");
  input.autocomplete = "off";
  var menu = document.createElement("ul");
  menu.className = "chip-menu";
  menu.hidden = true;
  var options = Array.prototype.slice.call(select.options);

  function button(text, label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    if (label) {
      b.setAttribute("aria-label", label);
    }
    b.addEventListener("click", onClick);
    return b;
  }
  function render() {
    chips.textContent = "";
    options.forEach(function (option) {
      if (!option.selected) {
        return;
      }
      var chip = document.createElement("span");
      chip.className = "chip";
      chip.textContent = option.text;
      chip.appendChild(button("×", "移除 " + option.text, function () {
        option.selected = false;
        render();
      }));
      chips.appendChild(chip);
    });
  }
  function matches() {
    var q = input.value.trim();
    return q ? options.filter(function (o) { return !o.selected && o.text.indexOf(q) !== -1; }).slice(0, 12) : [];
  }
  function choose(option) {
    option.selected = true;
    input.value = "";
    menu.hidden = true;
    render();
    input.focus();
  }
  input.addEventListener("input", function () {
    menu.textContent = "";
    var found = matches();
    found.forEach(function (option) {
      var item = document.createElement("li");
      item.appendChild(button(option.text, "添加 " + option.text, function () { choose(option); }));
      menu.appendChild(item);
    });
    menu.hidden = found.length === 0;
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {  // add the first match; never send the whole form from here
      event.preventDefault();
      var found = matches();
      if (found.length) {
        choose(found[0]);
      }
    } else if (event.key === "Escape") {
      menu.hidden = true;
    }
  });
  box.appendChild(chips);
  box.appendChild(input);
  box.appendChild(menu);
  select.hidden = true;
  select.insertAdjacentElement("afterend", box);
  render();
}
document.querySelectorAll("select[multiple][data-chips]").forEach(enhanceChips);
