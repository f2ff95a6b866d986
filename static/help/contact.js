/* Help-centre contact form: article suggestions while typing (deflection), outcome reporting, draft keeping,
   one submit per click. No build step; the page works the same without this script.

   Suggestions: GET <suggest-url>?q=&lang=&shop=  ->  {"results": [{id, title, snippet, url}], "log_id": n|null,
                                                       "log_token": signed|null (optional)}
   Outcomes:    POST <outcome-url>  JSON {"log_ids": [...], "outcome": "ticket"|"deflected"|"click", "article": id?}
   Either endpoint may be missing (404) or down: the form keeps working and nothing is shown. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 300;
  var MIN_QUERY = 3;
  var DRAFT_KEY = "carddesk.help.contact.draft";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* Report an outcome without holding up navigation: a keepalive fetch with JSON and the CSRF header. */
  function reportOutcome(url, payload) {
    if (!url || !payload.log_ids || !payload.log_ids.length) return;
    var body = JSON.stringify(payload);
    try {
      fetch(url, {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
        body: body
      }).catch(function () {});
    } catch (e) { /* no fetch: the outcome is lost, the page is not */ }
  }

  /* While the page unloads: navigator.sendBeacon. A beacon cannot carry headers, so the CSRF token travels
     in the form-encoded body (csrfmiddlewaretoken), which Django's CSRF check reads as from any form;
     the knowledge endpoint takes log_ids comma-separated there. Fallback: the keepalive fetch. */
  function beaconOutcome(url, payload) {
    if (!url || !payload.log_ids || !payload.log_ids.length) return;
    if (navigator.sendBeacon && window.URLSearchParams) {
      var form = new URLSearchParams();
      form.set("log_ids", payload.log_ids.join(","));
      form.set("outcome", payload.outcome);
      if (payload.article !== undefined && payload.article !== null) form.set("article", String(payload.article));
      form.set("csrfmiddlewaretoken", csrfToken());
      if (navigator.sendBeacon(url, form)) return;
    }
    reportOutcome(url, payload);
  }

  /* Search-log references: integer ids, or the signed tokens the suggest API also returns (which need no
     CSRF token, so they survive a sendBeacon). */
  var MAX_REFS = 20;
  function parseRefs(value) {
    return (value || "").split(",").map(function (s) { return s.trim(); })
      .filter(function (s) { return /^[A-Za-z0-9:_-]{1,100}$/.test(s); })
      .map(function (s) { return /^\d{1,18}$/.test(s) ? parseInt(s, 10) : s; })
      .slice(-MAX_REFS);
  }

  /* ---- confirmation page: the request became a ticket ---- */
  var done = document.getElementById("submission");
  if (done) {
    try { sessionStorage.removeItem(DRAFT_KEY); } catch (e) {}
    var ids = parseRefs(done.getAttribute("data-kb-log-ids"));
    reportOutcome(done.getAttribute("data-outcome-url"), { log_ids: ids, outcome: "ticket" });
    return;
  }

  var form = document.getElementById("contact-form");
  if (!form) return;

  var subject = form.querySelector("[name=subject]");
  var description = form.querySelector("[name=description]");
  var logField = form.querySelector("[name=kb_log_ids]");
  var panel = document.getElementById("suggestions");
  var list = document.getElementById("suggestions-list");
  var status = document.getElementById("suggestions-status");
  var submitButton = document.getElementById("contact-submit");
  var suggestUrl = form.getAttribute("data-suggest-url");
  var outcomeUrl = form.getAttribute("data-outcome-url");
  var shop = form.getAttribute("data-shop") || "";
  var lang = form.getAttribute("data-lang") || document.documentElement.lang || "";

  var logIds = parseRefs(logField && logField.value);
  var openedArticle = null;
  var submitting = false;
  var suggestAvailable = !!(suggestUrl && window.fetch);
  var timer = null;
  var controller = null;
  var lastQuery = "";

  function rememberLogRef(ref) {
    if ((typeof ref !== "number" && typeof ref !== "string") || ref === "" || logIds.indexOf(ref) !== -1) return;
    logIds.push(ref);
    if (logIds.length > MAX_REFS) logIds = logIds.slice(-MAX_REFS);
    if (logField) logField.value = logIds.join(",");
  }

  function announce(count) {
    if (!status) return;
    if (count === 0) status.textContent = form.getAttribute("data-label-none") || "";
    else if (count === 1) status.textContent = form.getAttribute("data-label-one") || "";
    else status.textContent = (form.getAttribute("data-label-many") || "").replace("%(count)s", String(count));
  }

  function render(results) {
    list.textContent = "";
    results.slice(0, 5).forEach(function (item) {
      if (!item || !item.url || !item.title) return;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.title;          // textContent: suggestions are never parsed as HTML
      a.target = "_blank";                 // a new tab keeps what the customer typed here
      a.rel = "noopener";
      a.setAttribute("data-article", String(item.id));
      li.appendChild(a);
      if (item.snippet) {
        var p = document.createElement("p");
        p.textContent = item.snippet;
        li.appendChild(p);
      }
      list.appendChild(li);
    });
    var shown = list.children.length;
    panel.hidden = shown === 0;
    announce(shown);
  }

  function query() {
    var text = ((subject && subject.value) || "") + " " + ((description && description.value) || "").slice(0, 200);
    return text.replace(/\s+/g, " ").trim();
  }

  function suggest() {
    var q = query();
    if (!suggestAvailable || q.length < MIN_QUERY || q === lastQuery) return;
    lastQuery = q;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    var url = suggestUrl + "?q=" + encodeURIComponent(q) + "&lang=" + encodeURIComponent(lang) +
      "&shop=" + encodeURIComponent(shop);
    fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (response.status === 404 || response.status === 410) { suggestAvailable = false; return null; }
      if (!response.ok) return null;
      return response.json();
    }).then(function (data) {
      if (!data || !Array.isArray(data.results)) return;
      rememberLogRef(data.log_token || data.log_id);
      render(data.results);
    }).catch(function () { /* offline, aborted or not JSON: keep the form as it is */ });
  }

  function schedule() {
    saveDraft();
    if (timer) clearTimeout(timer);
    timer = setTimeout(suggest, DEBOUNCE_MS);
  }

  /* Keep the draft for this tab, so a detour (an article in the same tab, a reload) loses nothing. */
  function saveDraft() {
    try {
      sessionStorage.setItem(DRAFT_KEY, JSON.stringify({
        subject: subject ? subject.value : "", description: description ? description.value : ""
      }));
    } catch (e) {}
  }

  function restoreDraft() {
    try {
      var draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || "null");
      if (!draft) return;
      if (subject && !subject.value && draft.subject) subject.value = draft.subject;
      if (description && !description.value && draft.description) description.value = draft.description;
    } catch (e) {}
  }

  restoreDraft();
  if (subject) subject.addEventListener("input", schedule);
  if (description) description.addEventListener("input", schedule);

  list.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-article]") : null;
    if (!link) return;
    var id = parseInt(link.getAttribute("data-article"), 10);
    openedArticle = isNaN(id) ? link.getAttribute("data-article") : id;
    reportOutcome(outcomeUrl, { log_ids: logIds.slice(), outcome: "click", article: openedArticle });
  });

  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }   // one ticket per click, however impatient
    submitting = true;
    if (logField) logField.value = logIds.join(",");
    if (submitButton) submitButton.setAttribute("aria-disabled", "true");
    // Let a browser "back" to this page (bfcache) submit again.
    setTimeout(function () { submitting = false; if (submitButton) submitButton.removeAttribute("aria-disabled"); }, 8000);
  });

  /* Leaving without sending, after opening a suggested article: the article answered the question. */
  window.addEventListener("pagehide", function () {
    if (submitting || openedArticle === null) return;
    beaconOutcome(outcomeUrl, { log_ids: logIds.slice(), outcome: "deflected", article: openedArticle });
  });

  /* Put the keyboard where the first problem is (the server also marks it autofocus). */
  var firstInvalid = form.querySelector("[aria-invalid=true]");
  if (firstInvalid && document.activeElement !== firstInvalid) firstInvalid.focus();
  else if (!firstInvalid && document.getElementById("error-summary")) document.getElementById("error-summary").focus();
  if (query().length >= MIN_QUERY) schedule();
})();
