// The chat panel: the conversation lives here (the server keeps none) and is sent,
// bounded, with every question. Actions come back as a confirmation the person presses.
(function () {
  "use strict";
  var root = document.getElementById("assistant-chat");
  if (!root) return;
  var log = document.getElementById("assistant-log");
  var form = document.getElementById("assistant-form");
  var input = document.getElementById("assistant-message");
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var history = [];
  var MAX_HISTORY = 12;

  function add(role, text) {
    var item = document.createElement("li");
    item.className = "assistant-" + role;
    var body = document.createElement("p");
    body.textContent = text;
    body.style.whiteSpace = "pre-line";
    item.appendChild(body);
    log.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  function post(payload) {
    payload.role = root.dataset.role;
    return fetch(root.dataset.endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || root.dataset.errorLabel);
        return data;
      });
    });
  }

  function show(reply) {
    var item = add("assistant", reply.answer);
    if (reply.confirmation) {
      var confirm = document.createElement("button");
      confirm.type = "button";
      confirm.className = "assistant-confirm";
      confirm.textContent = root.dataset.confirmLabel;
      confirm.addEventListener("click", function () {
        confirm.disabled = true;
        post({ confirm: reply.confirmation.token }).then(function (done) {
          add("assistant", done.answer);
          history.push({ role: "assistant", content: done.answer });
        }, fail);
      });
      item.appendChild(confirm);
    } else if (reply.classes && reply.classes.length) {
      reply.classes.forEach(function (row) {
        if (row.my_booking) return;
        var book = document.createElement("button");
        book.type = "button";
        book.className = "secondary assistant-book";
        book.textContent = root.dataset.bookLabel + ": " + row["class"] + " " + row.day + " " + row.time;
        book.addEventListener("click", function () { ask("Book session " + row.session_id); });
        item.appendChild(book);
      });
    }
  }

  function fail(error) {
    add("error", error.message || root.dataset.errorLabel);
  }

  function ask(message) {
    add("user", message);
    var sent = history.slice(-MAX_HISTORY);
    history.push({ role: "user", content: message });
    post({ message: message, history: sent }).then(function (reply) {
      history.push({ role: "assistant", content: reply.answer });
      show(reply);
    }, fail);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var message = input.value.trim();
    if (!message) return;
    input.value = "";
    ask(message);
  });
})();
