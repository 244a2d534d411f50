// The pickers and order lines of a start form or a task form. Options come from the page's JSON
// endpoint (data-options-url); the server checks every choice again, so this only makes the form easy.
(function () {
  "use strict";
  const lists = {};

  function load(url) {
    if (!lists[url]) {
      lists[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => response.json().then((body) => {
          if (!response.ok) throw new Error(body.error || response.statusText);
          return body.options;
        }));
    }
    return lists[url];
  }

  function fill(select, options) {
    const chosen = select.dataset.selected || select.value;
    select.replaceChildren(select.options[0]); // keep the "Choose…" prompt
    for (const option of options) {
      const item = new Option(option.name, option.id);
      if (option.price !== undefined && option.price !== null) item.dataset.price = option.price;
      select.add(item);
    }
    select.value = chosen;
    if (select.value !== chosen) select.value = "";
  }

  function say(after, message) {
    let note = after.parentNode.querySelector(".options-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "options-error error";
      after.after(note);
    }
    note.textContent = message;
    note.hidden = false;
  }

  function setUpPicker(select) {
    load(select.dataset.optionsUrl).then((options) => fill(select, options), (error) => say(select, error.message));
  }

  function number(input) {
    const value = parseFloat(input.value);
    return Number.isFinite(value) ? value : null;
  }

  function setUpLines(box) {
    const body = box.querySelector("tbody");
    const template = box.querySelector("template.line-template");
    const products = load(box.dataset.optionsUrl);

    function total() {
      let sum = 0;
      for (const row of body.querySelectorAll("tr.line")) {
        const quantity = number(row.querySelector(".line-quantity"));
        const price = number(row.querySelector(".line-price"));
        const amount = quantity !== null && price !== null ? quantity * price : null;
        row.querySelector(".line-amount").textContent = amount === null ? "—" : amount.toFixed(2);
        sum += amount || 0;
      }
      box.querySelector(".lines-total").textContent = sum.toFixed(2);
    }

    // Rows are numbered 0..n-1 after every change, so the server reads them in order.
    function renumber() {
      body.querySelectorAll("tr.line").forEach((row, index) => {
        for (const input of row.querySelectorAll("[name]")) {
          input.name = input.name.replace(/-(\d+|__n__)-/, "-" + index + "-");
        }
      });
      total();
    }

    function wire(row) {
      const select = row.querySelector(".line-product");
      products.then((options) => fill(select, options), (error) => say(box.querySelector(".add-line"), error.message));
    }

    body.querySelectorAll("tr.line").forEach(wire);
    box.querySelector(".add-line").addEventListener("click", () => {
      const row = template.content.firstElementChild.cloneNode(true);
      body.appendChild(row);
      wire(row);
      renumber();
      row.querySelector(".line-product").focus();
    });
    body.addEventListener("click", (event) => {
      const button = event.target.closest(".remove-line");
      if (!button) return;
      button.closest("tr").remove();
      renumber();
    });
    body.addEventListener("change", (event) => {
      if (event.target.matches(".line-product")) {
        // The ERP's list price, when it has one, unless the user already typed a price.
        const chosen = event.target.selectedOptions[0];
        const price = event.target.closest("tr").querySelector(".line-price");
        if (chosen && chosen.dataset.price && !price.value) price.value = chosen.dataset.price;
      }
      total();
    });
    body.addEventListener("input", total);
    total();
  }

  for (const form of document.querySelectorAll("#start-form, #task-form")) {
    form.querySelectorAll("select[data-options-url]").forEach(setUpPicker);
    form.querySelectorAll(".lines[data-options-url]").forEach(setUpLines);
  }
})();
