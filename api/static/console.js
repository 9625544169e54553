// Light JavaScript for the console: CSRF on fetch, "select all" checkboxes, confirmations.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.auditcage = {
    csrf: meta ? meta.content : "",
    // POST JSON with the session's CSRF token; resolves to the parsed reply.
    post: function (url, body) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf },
        body: JSON.stringify(body || {}),
      }).then(function (r) { return r.json().then(function (j) { j._status = r.status; return j; }); });
    },
  };
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("input[data-select-all]")) {
      document.querySelectorAll('input[name="' + t.dataset.selectAll + '"]').forEach(function (c) {
        c.checked = t.checked;
      });
    }
  });
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
  });
})();
