/* The invitations page's progress bar: asks how far the send is, once a second, until it ends. */
(function () {
  "use strict";
  var box = document.getElementById("sending");
  if (!box || box.getAttribute("data-running") !== "yes") { return; }
  var url = box.getAttribute("data-url");
  var bar = document.getElementById("send-progress");
  var done = document.getElementById("send-done");
  var total = document.getElementById("send-total");
  function show(found) {
    bar.max = Math.max(found.total, 1);
    bar.value = found.done;
    bar.textContent = found.done + " / " + found.total;
    done.textContent = String(found.done);
    total.textContent = String(found.total);
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (!found) { return; }
        show(found);
        if (found.running) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
