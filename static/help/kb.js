/* CardDesk help centre: knowledge-base search suggestions and "was this helpful?" without reloading.
   Plain ES5, no build step; every feature works without it (the forms post and the search page renders).

   - Search boxes (form.kb-search with data-suggest-url): suggestions as you type, debounced, from
     GET <suggest-url>?q=&lang=&shop=&limit=5 -> {"results": [{id, title, snippet, url}], "log_id", "log_token"}.
     An accessible combobox: arrows move, Enter opens, Escape closes. Links carry ?s=<log_token>, so the
     article page records the click.
   - The ids of this tab's searches are kept in sessionStorage "carddesk.kb.logIds" (JSON array of numbers,
     newest last, at most 10) for the contact form to report as "ticket" (see knowledge/views/beacon.py).
     window.CardDeskKB.logIds() reads them.
   - Vote forms (form[data-kb-vote]) post with fetch and show the answer in place. */
(function () {
  "use strict";
  var STORE = "carddesk.kb.logIds";
  var DEBOUNCE_MS = 220;

  function logIds() {
    try { var ids = JSON.parse(window.sessionStorage.getItem(STORE) || "[]"); return Array.isArray(ids) ? ids : []; }
    catch (e) { return []; }
  }
  function rememberLogId(id) {
    if (typeof id !== "number") return;
    try {
      var ids = logIds().filter(function (x) { return x !== id; });
      ids.push(id);
      window.sessionStorage.setItem(STORE, JSON.stringify(ids.slice(-10)));
    } catch (e) { /* storage disabled: nothing to remember */ }
  }
  window.CardDeskKB = { logIds: logIds, rememberLogId: rememberLogId };

  function withParam(url, name, value) {
    if (!value) return url;
    return url + (url.indexOf("?") === -1 ? "?" : "&") + name + "=" + encodeURIComponent(value);
  }
  function longEnough(q) {
    return /[\u3400-\u9fff]/.test(q) || q.replace(/\s+/g, "").length >= 2;
  }

  function setupSearch(form) {
    var url = form.getAttribute("data-suggest-url");
    var input = form.querySelector("input[name=q]");
    var list = form.querySelector(".kb-suggest");
    var status = form.querySelector("[role=status]");
    if (!url || !input || !list || !window.fetch) return;
    var timer = null, seq = 0, active = -1, items = [], last = "";

    function close() {
      list.hidden = true; list.innerHTML = ""; items = []; active = -1;
      input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
    }
    function highlight(index) {
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) input.setAttribute("aria-activedescendant", items[index].id);
      else input.removeAttribute("aria-activedescendant");
    }
    function render(data) {
      list.innerHTML = ""; items = []; active = -1;
      (data.results || []).forEach(function (hit, i) {
        var li = document.createElement("li");
        li.id = "kb-suggest-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", "false");
        var a = document.createElement("a");
        a.href = withParam(hit.url, "s", data.log_token); a.tabIndex = -1;
        var title = document.createElement("strong"); title.textContent = hit.title;  // never parsed as HTML
        a.appendChild(title);
        if (hit.snippet) { var p = document.createElement("span"); p.textContent = hit.snippet; a.appendChild(p); }
        li.appendChild(a); list.appendChild(li); items.push(li);
      });
      if (!items.length) { close(); if (status) status.textContent = ""; return; }
      list.hidden = false; input.setAttribute("aria-expanded", "true");
      if (status) status.textContent = items.length + " " + (form.getAttribute("data-count-label") || "");
    }
    function suggest() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (!longEnough(q)) { close(); return; }
      var mine = ++seq;
      var request = withParam(withParam(withParam(url, "q", q), "lang", form.getAttribute("data-lang")),
                              "shop", form.getAttribute("data-shop")) + "&limit=5";
      fetch(request, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || mine !== seq) return;  // a newer keystroke already asked
          rememberLogId(data.log_id);
          render(data);
        })
        .catch(function () { /* offline or throttled: the form still submits */ });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, DEBOUNCE_MS); });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, -1)); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); window.location.href = items[active].querySelector("a").href; }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });  // let a click on an option land
  }

  function setupVote(form) {
    if (!window.fetch || !window.FormData) return;
    var status = form.querySelector("[data-kb-vote-status]");
    form.addEventListener("submit", function (e) {
      var button = e.submitter;
      if (!button || button.name !== "helpful") return;  // let the browser handle anything unexpected
      e.preventDefault();
      var body = new FormData(form);
      body.set("helpful", button.value);
      var token = form.querySelector("[name=csrfmiddlewaretoken]");
      fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" }
      }).then(function (r) { return r.ok ? r.json() : Promise.reject(r); }).then(function (data) {
        var fieldset = form.querySelector("fieldset");
        var thanks = document.createElement("p");
        thanks.className = "kb-thanks"; thanks.tabIndex = -1;
        thanks.textContent = form.getAttribute("data-thanks") || "\u2713";
        if (fieldset) fieldset.replaceWith(thanks);
        var details = form.querySelector("details");
        if (details && !data.helpful) {
          details.open = true;
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = "helpful"; hidden.value = "no"; form.appendChild(hidden);
          var send = document.createElement("button"); send.type = "submit"; send.className = "secondary";
          send.textContent = form.getAttribute("data-send-label") || "OK"; details.appendChild(send);
        } else if (details) { details.remove(); }
        if (status) status.textContent = thanks.textContent;
        thanks.focus();
      }).catch(function () { form.submit(); });
    });
  }

  document.querySelectorAll("form.kb-search").forEach(setupSearch);
  document.querySelectorAll("form[data-kb-vote]").forEach(setupVote);
  var results = document.querySelector("[data-kb-log-id]");
  if (results && results.getAttribute("data-kb-log-id")) rememberLogId(parseInt(results.getAttribute("data-kb-log-id"), 10));
})();
