/* Article admin: "Preview the text above" renders the Markdown being edited through the server's sanitiser
   (POST to the admin's preview-markdown URL; nothing is saved) into the preview box. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-preview-url]");
    if (!button) return;
    var body = document.getElementById("id_body");
    var box = document.getElementById("kb-preview");
    var token = document.querySelector("[name=csrfmiddlewaretoken]");
    if (!body || !box || !token) return;
    var data = new FormData();
    data.append("body", body.value);
    fetch(button.getAttribute("data-kb-preview-url"), {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": token.value }
    }).then(function (r) { return r.json(); }).then(function (json) {
      box.innerHTML = json.html || "";  // sanitised by the server (nh3 allowlist)
    });
  });
})();
