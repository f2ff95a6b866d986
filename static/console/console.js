/* CardDesk console: live updates, collision warnings, canned replies, shortcuts. Plain JS, no build step.
 *
 * The websocket only notifies. Messages are fetched over HTTP after the last `seq` this page has, so a
 * reconnect or a missed event costs one request, never a lost or duplicated message (DESIGN.md invariant 1).
 */
(function () {
  "use strict";
  const C = window.CARDDESK || {};
  const T = C.i18n || {};
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const fmt = (s, vars) => s.replace(/%+\((\w+)\)s/g, (_, k) => vars[k]);
  const me = document.body.dataset.userId;

  /* ---------- websocket with reconnect ---------- */
  let socket = null;
  let retry = 0;
  const handlers = [];
  const onOpen = [];
  const status = $("#live-status");

  function setStatus(state) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = state === "live" ? T.live : T.offline;
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(proto + location.host + C.wsPath);
    socket.onopen = () => { retry = 0; setStatus("live"); onOpen.forEach((fn) => fn()); };
    socket.onmessage = (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (_) { return; }
      handlers.forEach((fn) => fn(data));
    };
    socket.onclose = () => {
      setStatus("offline");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 300 * 2 ** retry + Math.random() * 300);
    };
  }
  function send(obj) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(obj)); }
  // A dead network leaves a socket "open" for a long time: drop it at once, and come back at once.
  window.addEventListener("offline", () => { if (socket) socket.close(); setStatus("offline"); });
  window.addEventListener("online", () => {
    retry = 0;
    if (!socket || socket.readyState > 1) connect();
  });
  window.CARDDESK.socket = { send, handlers, onOpen };

  /* ---------- shortcuts dialog ---------- */
  const dialog = $("#shortcuts");
  $$("[data-shortcuts]").forEach((b) => b.addEventListener("click", () => dialog.showModal()));
  const typingTarget = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  let pendingG = false;
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && typingTarget(document.activeElement)) { document.activeElement.blur(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey || typingTarget(e.target)) return;
    if (e.key === "?") { e.preventDefault(); dialog.open ? dialog.close() : dialog.showModal(); return; }
    if (pendingG && e.key === "i") { location.href = "/console/"; return; }
    pendingG = e.key === "g";
    if (e.key === "/") { const q = $("#q"); if (q) { e.preventDefault(); q.focus(); } }
  });

  /* ---------- inbox ---------- */
  function initInbox() {
    const rowsBox = $("#rows");
    if (!rowsBox) return;
    let cursor = -1;
    const rows = () => $$("#rows tbody tr[data-href]");
    const remember = () => sessionStorage.setItem("carddesk.list", JSON.stringify(rows().map((r) => r.dataset.href)));
    remember();
    function move(delta) {
      const list = rows();
      if (!list.length) return;
      cursor = Math.max(0, Math.min(list.length - 1, cursor + delta));
      list.forEach((r, i) => r.classList.toggle("cursor", i === cursor));
      list[cursor].scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typingTarget(e.target)) return;
      const list = rows();
      if (e.key === "j") move(1);
      else if (e.key === "k") move(-1);
      else if ((e.key === "o" || e.key === "Enter") && list[cursor]) location.href = list[cursor].dataset.href;
      else if (e.key === "x" && list[cursor]) { const box = $("input[type=checkbox]", list[cursor]); box.checked = !box.checked; }
    });
    let timer = null;
    async function refresh() {
      const checked = new Set($$("#rows input[name=tickets]:checked").map((i) => i.value));
      const res = await fetch(rowsBox.dataset.fragmentUrl, { credentials: "same-origin" });
      if (!res.ok) return;
      rowsBox.innerHTML = await res.text();
      if (window.CARDDESK.tickClocks) window.CARDDESK.tickClocks();
      $$("#rows input[name=tickets]").forEach((i) => { i.checked = checked.has(i.value); });
      cursor = -1;
      remember();
      const note = $("#list-note");
      if (note) note.textContent = T.newTickets;
    }
    handlers.push((ev) => {
      if (ev.type && (ev.type.startsWith("ticket.") || ev.type.startsWith("sla."))) {
        clearTimeout(timer); timer = setTimeout(refresh, 700);
      }
    });
  }

  /* ---------- SLA countdowns ---------- */
  // Rendered by the server (tickets/views/sla.py), kept ticking here from `data-due`, with the same words.
  const S = T.sla || {};
  const serverTime = Number(document.body.dataset.serverTime || 0) * 1000;
  const skew = serverTime ? serverTime - Date.now() : 0; // this machine's clock may be off; the server's is not
  function duration(seconds) {
    let minutes = Math.max(1, Math.ceil(Math.abs(seconds) / 60));
    if (minutes < 60) return fmt(S.min, { minutes });
    let hours = Math.floor(minutes / 60);
    minutes %= 60;
    if (hours < 24) return minutes ? fmt(S.hmin, { hours, minutes }) : fmt(S.h, { hours });
    const days = Math.floor(hours / 24);
    hours %= 24;
    return hours ? fmt(S.dh, { days, hours }) : fmt(S.d, { days });
  }
  function secondsUntil(iso) { return Math.round((Date.parse(iso) - (Date.now() + skew)) / 1000); }
  function tickClocks() {
    $$(".sla[data-due]").forEach((el) => {
      const left = secondsUntil(el.dataset.due);
      if (Number.isNaN(left)) return;
      const state = left < 0 ? "breached" : left <= Number(el.dataset.atRisk || 1800) ? "at_risk" : "ok";
      el.classList.remove("sla-ok", "sla-at_risk", "sla-breached");
      el.classList.add("sla-" + state);
      const text = left < 0 ? fmt(S.overdue, { time: duration(left) }) : duration(left);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  if (S.min) { tickClocks(); setInterval(tickClocks, 15000); }
  window.CARDDESK.tickClocks = tickClocks;

  /* ---------- alerts (SLA, sentiment, rules) ---------- */
  // The server sends these only to who should hear them (supervisors; assignee or queue for some). A burst —
  // a sweep after an outage, several sockets' groups carrying one event — must not bury the screen: at most
  // one toast per ticket per 10 s, at most MAX_TOASTS on screen, and one "+N more" for the rest.
  function initAlerts() {
    const box = $("#toasts");
    const A = T.alerts || {};
    if (!box) return;
    const PER_TICKET_MS = 10000, SHOW_MS = 15000, MAX_TOASTS = 3;
    const RANK = { "ticket.rule_alert": 1, "ticket.sentiment_alert": 2, "sla.warning": 3, "sla.breached": 4 };
    const recent = new Map(); // ticket id -> {at, rank, el}
    let more = 0, summary = null, summaryTimer = null;

    function detail(ev) {
      const metric = (T.metrics || {})[ev.metric] || "";
      if (ev.type === "sla.breached") {
        return ev.late_seconds > 60 ? metric + " · " + fmt(S.overdue, { time: duration(-ev.late_seconds) }) : metric;
      }
      if (ev.type === "sla.warning" && ev.due_at) {
        const left = secondsUntil(ev.due_at);
        return metric + " · " + (left < 0 ? fmt(S.overdue, { time: duration(left) }) : fmt(A.dueIn, { time: duration(left) }));
      }
      return "";
    }
    function fill(el, ev) {
      el.className = "toast toast-" + ev.type.replace(/\W/g, "-");
      const link = $("a", el);
      link.href = C.ticketUrl.replace("REF", encodeURIComponent(ev.reference || ev.ticket));
      $("b", link).textContent = A[ev.type];
      $(".ref", link).textContent = ev.reference || "#" + ev.ticket;
      $(".detail", link).textContent = detail(ev);
    }
    function toast(extraClass) {
      const el = document.createElement("div");
      el.innerHTML = '<a><b></b> <span class="ref"></span> <span class="detail"></span></a>' +
        '<button type="button" class="link close">×</button>';
      const close = $(".close", el);
      close.setAttribute("aria-label", A.dismiss || "×");
      close.addEventListener("click", () => el.remove());
      if (extraClass) el.className = extraClass;
      return el;
    }
    function later(el, ms) { return setTimeout(() => el.remove(), ms); }
    function showMore() {
      more += 1;
      if (!summary || !summary.isConnected) {
        summary = toast("toast toast-more");
        const link = $("a", summary);
        link.href = C.atRiskUrl;
        link.innerHTML = "";
        box.appendChild(summary);
      }
      $("a", summary).textContent = fmt(A.more, { count: more });
      clearTimeout(summaryTimer);
      summaryTimer = setTimeout(() => { summary.remove(); summary = null; more = 0; }, SHOW_MS);
    }
    handlers.push((ev) => {
      if (!RANK[ev.type] || !A[ev.type] || typeof ev.ticket !== "number") return;
      const now = Date.now();
      const seen = recent.get(ev.ticket);
      if (seen && now - seen.at < PER_TICKET_MS) {
        // The same ticket again within 10 s: no new toast; a breach still replaces the warning on screen.
        if (seen.el && seen.el.isConnected && RANK[ev.type] > seen.rank) { fill(seen.el, ev); seen.rank = RANK[ev.type]; }
        return;
      }
      if (recent.size > 500) recent.forEach((v, k) => { if (now - v.at >= PER_TICKET_MS) recent.delete(k); });
      if ($$(".toast[data-ticket]", box).length >= MAX_TOASTS) {
        recent.set(ev.ticket, { at: now, rank: RANK[ev.type], el: null }); // counted in "+N more"
        showMore();
        return;
      }
      const el = toast();
      fill(el, ev);
      el.dataset.ticket = ev.ticket;
      box.insertBefore(el, summary && summary.isConnected ? summary : null);
      let timer = later(el, SHOW_MS);
      el.addEventListener("mouseenter", () => clearTimeout(timer));
      el.addEventListener("mouseleave", () => { timer = later(el, SHOW_MS / 2); });
      recent.set(ev.ticket, { at: now, rank: RANK[ev.type], el });
    });
  }

  /* ---------- ticket page ---------- */
  function initTicket() {
    const root = $(".ticket[data-ticket]");
    if (!root) return;
    const ticketId = Number(root.dataset.ticket);
    const thread = $("#thread");
    const reply = $("#reply");
    const body = reply ? $("textarea[name=body]", reply) : null;
    const seen = reply ? $("input[name=seen_seq]", reply) : null;
    let lastSeq = Number(root.dataset.lastSeq);
    let fetching = null;

    async function catchUp() {
      if (fetching) return fetching;
      fetching = (async () => {
        const res = await fetch(root.dataset.messagesUrl + "?after=" + lastSeq, { credentials: "same-origin" });
        if (!res.ok) return;
        const box = document.createElement("div");
        box.innerHTML = await res.text();
        $$("article[data-seq]", box).forEach((m) => {
          const seq = Number(m.dataset.seq);
          if (thread.querySelector('article[data-seq="' + seq + '"]')) return; // never twice
          m.classList.add("fresh");
          thread.appendChild(m);
          lastSeq = Math.max(lastSeq, seq);
        });
        lastSeq = Math.max(lastSeq, Number(res.headers.get("X-Last-Seq") || 0));
        if (seen) seen.value = lastSeq;
        const version = res.headers.get("X-Ticket-Version");
        if (version && root.dataset.version && version !== root.dataset.version) {
          const stale = $("#stale");
          stale.textContent = T.updated;
          stale.hidden = false;
        }
      })().finally(() => { fetching = null; });
      return fetching;
    }

    onOpen.push(() => { send({ type: "watch", ticket: ticketId }); catchUp(); });

    const others = new Map();
    function renderPresence() {
      const lines = [];
      others.forEach((p) => lines.push(fmt(p.state === "typing" ? T.typing : T.viewing, { name: p.name })));
      $("#presence").textContent = lines.join(" · ");
    }
    handlers.push((ev) => {
      if (ev.ticket !== ticketId) return;
      if (ev.type === "message.created") { if (ev.seq > lastSeq) catchUp(); return; }
      if (ev.type === "presence") {
        if (String(ev.user) === me) return;
        if (ev.state === "left") others.delete(ev.user); else others.set(ev.user, ev);
        renderPresence();
        return;
      }
      if (ev.type && ev.type.startsWith("ticket.")) catchUp();
    });

    if (!reply) return;
    // Drafts survive reloads, crashes and failed submits.
    const draftKey = "carddesk.draft." + ticketId;
    let typingSent = 0;
    let idle = null;
    body.addEventListener("input", () => {
      localStorage.setItem(draftKey, body.value);
      const now = Date.now();
      if (now - typingSent > 3000) { send({ type: "typing", ticket: ticketId, state: "start" }); typingSent = now; }
      clearTimeout(idle);
      idle = setTimeout(() => { send({ type: "typing", ticket: ticketId, state: "stop" }); typingSent = 0; }, 5000);
    });
    // The draft is dropped only once the server accepted it: the page after a successful send has a flash and
    // no error in the reply form (see the check below), a failed send comes back with its text and an error.
    if (sessionStorage.getItem("carddesk.sent") === draftKey && $(".flash-success") && !$(".error", reply)) {
      localStorage.removeItem(draftKey);
    }
    sessionStorage.removeItem("carddesk.sent");
    if (!body.value && localStorage.getItem(draftKey)) body.value = localStorage.getItem(draftKey);
    reply.addEventListener("submit", () => { sessionStorage.setItem("carddesk.sent", draftKey); });
    body.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); reply.requestSubmit(); } });

    const kindInputs = $$("input[name=kind]", reply);
    const syncKind = () => reply.classList.toggle("is-note", $("input[name=kind]:checked", reply)?.value === "note");
    kindInputs.forEach((i) => i.addEventListener("change", syncKind));
    syncKind();
    function focusReply(kind) {
      const input = kindInputs.find((i) => i.value === kind);
      if (input) { input.checked = true; syncKind(); }
      body.focus();
    }

    // Canned replies: pick by shortcut or title, placeholders filled by the server from this ticket's context.
    const canned = $("#canned-search");
    if (canned) {
      // Enter in the picker inserts the reply; it must never submit the half-written message.
      canned.addEventListener("keydown", (e) => {
        if (e.key === "Enter") { e.preventDefault(); canned.dispatchEvent(new Event("change")); }
      });
      canned.addEventListener("change", async () => {
        const option = $$("#canned-list option").find((o) => o.value === canned.value || o.textContent.startsWith(canned.value));
        if (!option) return;
        const res = await fetch(option.dataset.url, { credentials: "same-origin" });
        if (!res.ok) return;
        const data = await res.json();
        const start = body.selectionStart ?? body.value.length;
        body.value = body.value.slice(0, start) + data.body + body.value.slice(body.selectionEnd ?? start);
        $("input[name=canned_reply]", reply).value = data.id;
        localStorage.setItem(draftKey, body.value);
        canned.value = "";
        body.focus();
      });
    }

    // Knowledge-base links: search as you type, pick a title, the article's address goes into the reply.
    const kb = $("#kb-search");
    if (kb) {
      const list = $("#kb-list");
      const found = new Map();
      let timer = null;
      kb.addEventListener("input", () => {
        clearTimeout(timer);
        const q = kb.value.trim();
        if (found.has(q) || q.length < 2) return;
        timer = setTimeout(async () => {
          const params = new URLSearchParams({ q, lang: kb.dataset.lang, shop: kb.dataset.shop, limit: "6" });
          const res = await fetch(kb.dataset.suggestUrl + "?" + params, { credentials: "same-origin" });
          if (!res.ok) return;
          const data = await res.json();
          list.innerHTML = "";
          data.results.forEach((a) => {
            found.set(a.title, a);
            const option = document.createElement("option");
            option.value = a.title;
            list.appendChild(option);
          });
        }, 250);
      });
      const insertArticle = () => {
        const article = found.get(kb.value);
        if (!article) return;
        const text = article.title + "\n" + new URL(article.url, location.origin).href;
        const start = body.selectionStart ?? body.value.length;
        body.value = body.value.slice(0, start) + text + body.value.slice(body.selectionEnd ?? start);
        localStorage.setItem(draftKey, body.value);
        kb.value = "";
        body.focus();
      };
      kb.addEventListener("change", insertArticle);
      kb.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); insertArticle(); } });
    }

    const reveal = $("#reveal");
    if (reveal) {
      reveal.addEventListener("click", async () => {
        const res = await fetch(reveal.dataset.url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": C.csrf } });
        const data = await res.json();
        if (!res.ok) { alert(data.error); return; }
        const list = $("#card-keys");
        list.innerHTML = "";
        data.keys.forEach((k) => { const li = document.createElement("li"); li.textContent = k; list.appendChild(li); });
        reveal.remove();
      });
    }

    const list = JSON.parse(sessionStorage.getItem("carddesk.list") || "[]");
    const here = list.indexOf(location.pathname);
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typingTarget(e.target)) return;
      if (e.key === "r") { e.preventDefault(); focusReply("reply"); }
      else if (e.key === "n") { e.preventDefault(); focusReply("note"); }
      else if (e.key === "a") $("#assign-me")?.click();
      else if (e.key === "s") $("#solve")?.click();
      else if (e.key === "]" && here >= 0 && list[here + 1]) location.href = list[here + 1];
      else if (e.key === "[" && here > 0) location.href = list[here - 1];
    });
  }

  initInbox();
  initTicket();
  initAlerts();
  if (status) connect();
})();
