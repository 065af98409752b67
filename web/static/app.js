// recon: keyboard shortcuts for the review queue, running balances on match forms, inline
// search of open items. No inline scripts anywhere: the Content-Security-Policy forbids them.
"use strict";

(function () {
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
  }

  // --- review queue: j/k move, a accept, r reject, e edit ---------------------------------
  var rows = Array.prototype.slice.call(document.querySelectorAll(".queue-row"));
  var current = -1;

  function select(index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0 && rows[current]) rows[current].classList.remove("selected");
    current = index;
    var row = rows[current];
    row.classList.add("selected");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function submit(selector) {
    if (current < 0) return;
    var form = rows[current].querySelector(selector);
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (!typing(event.target) && event.target.tagName !== "BUTTON") select(index);
    });
  });
  if (rows.length) select(0);

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key;
    if (key === "/") {
      var search = document.querySelector("[data-search-focus]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (!rows.length) return;
    if (key === "j") { event.preventDefault(); select(current + 1); }
    else if (key === "k") { event.preventDefault(); select(current - 1); }
    else if (key === "a") { event.preventDefault(); submit("form.accept"); }
    else if (key === "r") { event.preventDefault(); submit("form.reject"); }
    else if (key === "e") {
      var edit = current >= 0 && rows[current].querySelector("a.edit");
      if (edit) window.location.href = edit.href;
    }
  });

  // --- forms that ask first --------------------------------------------------------------
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // --- match forms: entered and remaining amounts, in exact cents --------------------------
  function cents(text) {
    text = (text || "").trim().replace(",", ".");
    if (!/^-?\d+(\.\d{0,4})?$/.test(text)) return text ? NaN : 0;
    var negative = text.charAt(0) === "-";
    var parts = text.replace("-", "").split(".");
    var value = parseInt(parts[0], 10) * 10000 + parseInt(((parts[1] || "") + "0000").slice(0, 4), 10);
    return negative ? -value : value;
  }
  function show(units) {
    var negative = units < 0; units = Math.abs(units);
    var whole = Math.floor(units / 10000), frac = String(units % 10000 + 10000).slice(1, 3);
    return (negative ? "-" : "") + whole.toLocaleString("en-US") + "." + frac;
  }
  document.querySelectorAll("form.edit-form").forEach(function (form) {
    var target = cents(form.getAttribute("data-balance"));
    var entered = form.querySelector("[data-entered]");
    var remaining = form.querySelector("[data-remaining]");
    function update() {
      var sum = 0, bad = false;
      form.querySelectorAll("input[name=amount], input[name=adj_amount]").forEach(function (input) {
        var value = cents(input.value);
        if (isNaN(value)) { bad = true; input.classList.add("invalid"); } else { input.classList.remove("invalid"); sum += value; }
      });
      if (!entered || !remaining) return;
      entered.textContent = bad ? "not an amount" : show(sum);
      remaining.textContent = bad ? "—" : show(target - sum);
      remaining.className = !bad && target === sum ? "even" : "off";
    }
    form.addEventListener("input", update);
    form.querySelectorAll("input[data-fill]").forEach(function (input) {
      input.title = "double-click: apply the open amount";
      input.addEventListener("dblclick", function () { input.value = input.getAttribute("data-fill"); update(); });
    });
    update();
  });

  // --- inline search of open items on the match page ---------------------------------------
  document.querySelectorAll("form[data-inline-search]").forEach(function (form) {
    var url = form.getAttribute("data-inline-search");
    var table = document.querySelector("#candidates tbody");
    if (!table) return;
    var timer = null;
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var params = new URLSearchParams(new FormData(form));
        fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { items: [] }; })
          .then(function (data) { addRows(table, data.items || []); });
      }, 250);
    });
  });

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }
  function input(name, extra) {
    var el = document.createElement("input");
    el.name = name; el.className = "num"; el.size = extra || 11; el.inputMode = "decimal";
    return el;
  }
  function addRows(table, items) {
    var present = {};
    table.querySelectorAll("input[name=item_id]").forEach(function (el) { present[el.value] = true; });
    items.forEach(function (item) {
      if (present[String(item.id)]) return;
      var empty = table.querySelector("td.empty");
      if (empty) empty.parentNode.remove();
      var tr = document.createElement("tr");
      var doc = cell(item.document_number + " ");
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "item_id"; hidden.value = item.id;
      doc.appendChild(hidden);
      tr.appendChild(doc);
      tr.appendChild(cell(item.customer_id));
      tr.appendChild(cell(item.due_date, "nowrap"));
      tr.appendChild(cell(item.open_amount + " " + item.currency, "num"));
      var amount = cell("", "num"); var a = input("amount"); a.setAttribute("data-fill", item.open_amount);
      a.addEventListener("dblclick", function () { a.value = item.open_amount; a.form.dispatchEvent(new Event("input")); });
      amount.appendChild(a); tr.appendChild(amount);
      var discount = cell("", "num"); discount.appendChild(input("discount", 8)); tr.appendChild(discount);
      table.appendChild(tr);
    });
  }
})();
