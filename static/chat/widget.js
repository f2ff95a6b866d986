/* CardDesk chat widget. One tag on any site:
 *   <script src="https://desk.example.com/static/chat/widget.js" data-key="pk_…" data-token="…" async></script>
 * Plain JS, no framework, no build step; styles live in a shadow root so the host page and the widget never
 * restyle each other. Speaks wire protocol v1 (docs/chat-protocol.md): every message carries seq and prev_seq,
 * so a gap is noticed and refilled; un-acked messages are re-sent with the same client_msg_id after a reconnect.
 */
(function () {
  "use strict";
  const script = document.currentScript || document.querySelector('script[src*="chat/widget.js"][data-key]');
  if (!script || window.__carddeskChat) return;
  window.__carddeskChat = true;
  const desk = new URL(script.src, location.href);
  const base = desk.origin;
  const key = script.dataset.key;
  const lang = script.dataset.lang || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh-hans" : "en");
  const contextToken = script.dataset.token || (window.CardDeskChat && window.CardDeskChat.token) || "";
  const storeKey = "carddesk.chat." + key;
  const MAX_FILE = 10 * 1024 * 1024;

  let T = {};
  let config = null;
  let ws = null;
  let retry = 0;
  let wantOpen = false;
  let session = {};
  let lastSeq = 0;
  let prechat = null;
  let triedLogin = false;
  let typingTimer = null;
  let typingSentAt = 0;
  const pending = new Map(); // client_msg_id -> {body, el}
  const shown = new Set(); // seqs rendered

  const saved = () => { try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (_) { return {}; } };
  const save = (data) => { try { localStorage.setItem(storeKey, JSON.stringify({ ...saved(), ...data })); } catch (_) { /* private mode */ } };
  const forget = () => { try { localStorage.removeItem(storeKey); } catch (_) { /* ignore */ } };
  const fmt = (s, vars) => (s || "").replace(/%\((\w+)\)s/g, (_, k) => (vars[k] !== undefined ? vars[k] : ""));
  const uid = () => (crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "") : Date.now().toString(36) + Math.random().toString(36).slice(2));

  /* ---------- DOM ---------- */
  const host = document.createElement("div");
  host.id = "carddesk-chat";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <link rel="stylesheet" href="${new URL("widget.css", desk).href}">
    <button class="launcher" type="button" aria-expanded="false" aria-controls="cd-panel"><span class="dot" aria-hidden="true"></span><span class="label"></span></button>
    <section class="panel" id="cd-panel" role="dialog" aria-modal="false" hidden>
      <header>
        <div><h2 class="title"></h2><p class="status" role="status" aria-live="polite"></p></div>
        <div class="tools">
          <button type="button" class="transcript" hidden></button>
          <button type="button" class="end" hidden></button>
          <button type="button" class="close" aria-label=""><span aria-hidden="true">×</span></button>
        </div>
      </header>
      <form class="prechat" hidden novalidate>
        <p class="greeting"></p>
        <label><span data-t="name"></span><input name="name" autocomplete="name" maxlength="120"></label>
        <label><span data-t="email"></span><input name="email" type="email" autocomplete="email" required maxlength="254"></label>
        <label><span data-t="order_no"></span><input name="order_no" maxlength="64"></label>
        <label><span data-t="topic"></span><select name="topic"></select></label>
        <p class="form-error" role="alert"></p>
        <button type="submit" class="primary" data-t="start"></button>
      </form>
      <ol class="log" role="log" aria-live="polite"></ol>
      <div class="suggestions" hidden></div>
      <p class="typing" aria-live="polite"></p>
      <form class="rating" hidden>
        <p class="rate-title" data-t="rate"></p>
        <div class="stars" role="radiogroup"></div>
        <textarea name="comment" rows="2" maxlength="2000"></textarea>
        <button type="submit" class="primary" data-t="rate_send"></button>
        <button type="button" class="again link" data-t="new_chat"></button>
      </form>
      <form class="composer">
        <label class="attach" tabindex="0" role="button"><input type="file" accept="image/*,.pdf,.txt" hidden><svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"/></svg></label>
        <textarea name="body" rows="1" maxlength="4000" required></textarea>
        <button type="submit" class="primary send" data-t="send"></button>
      </form>
    </section>`;
  const $ = (sel) => root.querySelector(sel);
  const launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), statusEl = $(".status");
  const composer = $(".composer"), input = composer.querySelector("textarea"), fileInput = composer.querySelector("input[type=file]");
  const prechatForm = $(".prechat"), rating = $(".rating"), suggestions = $(".suggestions"), typingEl = $(".typing");

  function applyStrings() {
    launcher.querySelector(".label").textContent = T.open;
    $(".title").textContent = config.shop || T.title;
    panel.setAttribute("aria-label", T.title);
    $(".close").setAttribute("aria-label", T.close);
    $(".end").textContent = T.end;
    $(".transcript").textContent = T.transcript;
    $(".greeting").textContent = config.greeting;
    input.placeholder = T.placeholder;
    input.setAttribute("aria-label", T.placeholder);
    composer.querySelector(".attach").setAttribute("aria-label", T.attach);
    composer.querySelector(".attach").title = T.attach;
    rating.querySelector("textarea").placeholder = T.rate_comment;
    rating.querySelector("textarea").setAttribute("aria-label", T.rate_comment);
    root.querySelectorAll("[data-t]").forEach((el) => { el.textContent = T[el.dataset.t] || ""; });
    const select = prechatForm.querySelector("select");
    select.innerHTML = "";
    for (const t of config.topics || []) select.append(new Option(t.name, t.slug));
    select.append(new Option(T.topic_other, ""));
    const stars = rating.querySelector(".stars");
    stars.setAttribute("aria-label", T.rate);
    stars.innerHTML = "";
    for (let i = 1; i <= 5; i++) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "star"; b.dataset.score = i; b.textContent = "★";
      b.setAttribute("role", "radio"); b.setAttribute("aria-checked", "false"); b.setAttribute("aria-label", i + " / 5");
      b.addEventListener("click", () => stars.querySelectorAll(".star").forEach((s) => {
        s.classList.toggle("on", +s.dataset.score <= i); s.setAttribute("aria-checked", String(+s.dataset.score === i));
      }));
      stars.append(b);
    }
  }

  /* ---------- rendering ---------- */
  function time(iso) {
    try { return new Date(iso).toLocaleTimeString(lang === "en" ? "en" : "zh-CN", { hour: "2-digit", minute: "2-digit" }); } catch (_) { return ""; }
  }

  function bubble(kind, name, bodyHtml, extra) {
    const li = document.createElement("li");
    li.className = "msg " + kind;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = kind === "customer" ? T.you : (kind === "bot" ? T.bot : name);
    if (kind === "system") who.hidden = true;
    const body = document.createElement("div");
    body.className = "body";
    body.innerHTML = bodyHtml; // sanitised and masked by the server (nh3) before it was stored
    li.append(who, body);
    if (extra) li.append(extra);
    return li;
  }

  function render(m) {
    if (shown.has(m.seq)) return;
    shown.add(m.seq);
    let li = m.client_msg_id && pending.has(m.client_msg_id) ? pending.get(m.client_msg_id).el : null;
    if (li) {
      pending.delete(m.client_msg_id);
      li.classList.remove("pending", "failed");
    } else {
      li = bubble(m.author.kind, m.author.name, m.body);
      log.append(li);
    }
    li.dataset.seq = m.seq;
    const meta = li.querySelector(".meta") || document.createElement("span");
    meta.className = "meta";
    meta.textContent = time(m.created_at);
    li.append(meta);
    for (const a of m.attachments || []) {
      const link = document.createElement("a");
      link.href = new URL(a.url, base).href; link.target = "_blank"; link.rel = "noopener";
      if ((a.content_type || "").startsWith("image/")) {
        const img = document.createElement("img"); img.src = link.href; img.alt = a.name; link.append(img);
      } else { link.textContent = a.name; link.className = "file"; }
      li.querySelector(".body").append(link);
    }
    if (m.author.kind === "bot" && !session.wants_human) {
      root.querySelectorAll(".human").forEach((b) => b.remove());
      const b = document.createElement("button");
      b.type = "button"; b.className = "human link"; b.textContent = T.human;
      b.addEventListener("click", () => { send({ type: "human" }); b.remove(); });
      li.append(b);
    }
    log.scrollTop = log.scrollHeight;
    if (m.author.kind !== "customer") markRead();
  }

  function showStatus() {
    const s = session;
    let text = "";
    if (!s.state) text = T.connecting;
    else if (s.state === "new") text = config.agents_available === false ? T.no_agents : "";
    else if (s.state === "queued") {
      text = s.queue_position ? fmt(T.waiting, { position: s.queue_position }) + " " : "";
      if (s.eta_seconds != null) text += s.eta_seconds < 60 ? T.eta_soon : fmt(T.eta, { minutes: Math.ceil(s.eta_seconds / 60) });
      if (!s.agents_available) text = T.no_agents;
    } else if (s.state === "active") text = fmt(T.active, { agent: (s.agent && s.agent.name) || "" });
    else if (s.state === "missed") text = fmt(T.missed, { ticket: s.ticket || "" });
    else if (s.state === "ended") text = T.ended;
    statusEl.textContent = text;
    const online = s.state ? s.agents_available !== false : config.agents_available !== false;
    launcher.classList.toggle("offline", !online);
    const ended = s.state === "ended";
    composer.hidden = ended || !s.state;
    $(".end").hidden = !(s.state === "queued" || s.state === "active");
    $(".transcript").hidden = !s.ticket;
    const ratingWasHidden = rating.hidden;
    rating.hidden = !ended;
    if (ratingWasHidden && ended) log.scrollTop = log.scrollHeight;
    if (ended && !s.can_rate) rating.querySelector(".rate-title").textContent = T.ended;
  }

  function markRead() {
    if (panel.hidden || document.visibilityState !== "visible" || !lastSeq) return;
    if (lastSeq > (session.customer_read || 0)) { session.customer_read = lastSeq; send({ type: "read", seq: lastSeq }); }
  }

  /* ---------- socket ---------- */
  function send(frame) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; } return false; }

  function connect() {
    if (ws && ws.readyState <= 1) return;
    const proto = desk.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + desk.host + "/ws/chat/?key=" + encodeURIComponent(key) + "&lang=" + lang);
    ws.onopen = () => {
      retry = 0;
      const store = saved();
      const hello = { type: "hello", page_url: location.href };
      if (store.resume) { hello.resume_token = store.resume; hello.resume_after_seq = lastSeq; }
      else if (contextToken) hello.token = contextToken;
      else if (prechat) hello.prechat = prechat;
      send(hello);
    };
    ws.onmessage = (e) => { let f; try { f = JSON.parse(e.data); } catch (_) { return; } handle(f); };
    ws.onclose = (e) => {
      if (e.code === 4403 || e.code === 4404) { statusEl.textContent = fmt(T.error, { message: e.code }); return; } // refused: do not retry
      if (session.state) statusEl.textContent = T.reconnecting;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 300 * 2 ** retry + Math.random() * 300);
    };
  }

  function flushPending() {
    for (const [id, p] of pending) if (!p.acked) send({ type: "message", client_msg_id: id, body: p.body });
  }

  function handle(f) {
    switch (f.type) {
      case "session":
        if (f.resume_token) save({ resume: f.resume_token });
        session = { ...session, ...f };
        prechatForm.hidden = true;
        showStatus();
        flushPending();
        break;
      case "message":
        if (f.seq <= lastSeq) { render(f); break; }
        if (f.prev_seq !== lastSeq && f.prev_seq > lastSeq) { send({ type: "hello", resume_after_seq: lastSeq }); break; }
        render(f);
        lastSeq = f.seq;
        save({ last: lastSeq });
        break;
      case "ack": {
        const p = pending.get(f.client_msg_id);
        if (p) { p.acked = true; p.el.classList.remove("pending"); }
        break;
      }
      case "typing":
        typingEl.textContent = f.state === "start" ? fmt(T.typing, { name: (f.author && f.author.name) || "" }) : "";
        clearTimeout(typingEl._t);
        if (f.state === "start") typingEl._t = setTimeout(() => { typingEl.textContent = ""; }, 8000);
        break;
      case "read":
        log.querySelectorAll(".msg.customer").forEach((li) => {
          if (+li.dataset.seq <= f.seq && !li.querySelector(".read")) {
            const r = document.createElement("span"); r.className = "read"; r.textContent = T.read; li.append(r);
          }
        });
        break;
      case "suggestions": showSuggestions(f.articles || []); break;
      case "rated": rating.innerHTML = ""; rating.append(Object.assign(document.createElement("p"), { textContent: T.rated })); break;
      case "transcript": note(fmt(T.transcript_sent, { email: f.email })); break;
      case "human": session.wants_human = true; root.querySelectorAll(".human").forEach((b) => b.remove()); note(T.human_ok); break;
      case "error": onError(f); break;
      default: break;
    }
  }

  function note(text) {
    const li = document.createElement("li"); li.className = "msg system"; li.textContent = text; log.append(li);
    log.scrollTop = log.scrollHeight;
  }

  function onError(f) {
    if (f.client_msg_id && pending.has(f.client_msg_id)) {
      const p = pending.get(f.client_msg_id);
      p.failed = true; p.el.classList.add("failed"); p.el.title = f.message;
      if (f.code !== "rate_limited") pending.delete(f.client_msg_id);
      note(fmt(T.error, { message: f.message }));
      return;
    }
    if (f.code === "resume_expired" || (f.code === "not_found" && saved().resume)) {
      forget(); lastSeq = 0; session = {}; if (ws) ws.close(); return;
    }
    if (!session.state) {
      const err = prechatForm.querySelector(".form-error");
      if (!contextToken || f.field !== "token") { prechatForm.hidden = false; err.textContent = f.message; return; }
    }
    note(fmt(T.error, { message: f.message }));
  }

  function showSuggestions(articles) {
    suggestions.innerHTML = "";
    if (!articles.length) { suggestions.hidden = true; return; }
    const title = document.createElement("p"); title.textContent = T.suggested; suggestions.append(title);
    const ul = document.createElement("ul");
    for (const a of articles) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = new URL(a.url, base).href; link.target = "_blank"; link.rel = "noopener"; link.textContent = a.title;
      const solved = document.createElement("button");
      solved.type = "button"; solved.className = "link solved"; solved.textContent = T.solved_it;
      solved.addEventListener("click", () => { send({ type: "deflect", article: a.id }); suggestions.hidden = true; });
      li.append(link, " ", solved);
      ul.append(li);
    }
    suggestions.append(ul);
    suggestions.hidden = false;
  }

  /* ---------- actions ---------- */
  function sendMessage(body) {
    const id = uid();
    const li = bubble("customer", "", "");
    li.querySelector(".body").textContent = body;
    li.classList.add("pending");
    li.addEventListener("click", () => {
      if (li.classList.contains("failed")) { li.classList.remove("failed"); pending.set(id, { body, el: li }); send({ type: "message", client_msg_id: id, body }); }
    });
    log.append(li);
    log.scrollTop = log.scrollHeight;
    pending.set(id, { body, el: li });
    send({ type: "message", client_msg_id: id, body });
    send({ type: "typing", state: "stop" });
  }

  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    input.value = "";
    sendMessage(body);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); composer.requestSubmit(); }
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (now - typingSentAt > 3000) { typingSentAt = now; send({ type: "typing", state: "start" }); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingSentAt = 0; send({ type: "typing", state: "stop" }); }, 4000);
  });
  composer.querySelector(".attach").addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fileInput.click(); } });
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    if (file.size > MAX_FILE) { note(T.file_too_large); return; }
    const data = new FormData();
    data.append("file", file); data.append("client_msg_id", uid()); data.append("lang", lang);
    try {
      const r = await fetch(base + "/chat/w/" + encodeURIComponent(key) + "/upload", {
        method: "POST", body: data, headers: { "X-Chat-Resume": saved().resume || "" },
      });
      if (!r.ok) { const j = await r.json().catch(() => ({})); note(fmt(T.error, { message: (j.error && j.error.message) || r.status })); }
    } catch (err) { note(fmt(T.error, { message: String(err) })); }
  });
  prechatForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(prechatForm);
    const email = (d.get("email") || "").trim();
    if (!prechatForm.querySelector("[name=email]").checkValidity() || !email) {
      prechatForm.querySelector(".form-error").textContent = T.email_invalid || T.email; prechatForm.querySelector("[name=email]").focus(); return;
    }
    prechat = { email, name: d.get("name") || "", order_no: d.get("order_no") || "", topic: d.get("topic") || "" };
    prechatForm.querySelector(".form-error").textContent = "";
    if (ws && ws.readyState === 1) send({ type: "hello", prechat }); else connect();
  });
  $(".end").addEventListener("click", () => { if (confirm(T.end_confirm)) send({ type: "end" }); });
  $(".transcript").addEventListener("click", () => send({ type: "transcript" }));
  rating.addEventListener("submit", (e) => {
    e.preventDefault();
    const on = rating.querySelectorAll(".star.on").length;
    if (!on) { rating.querySelector(".star").focus(); return; }
    send({ type: "rate", score: on, comment: rating.querySelector("textarea").value });
  });
  rating.querySelector(".again").addEventListener("click", () => {
    forget(); lastSeq = 0; session = {}; shown.clear(); pending.clear(); log.innerHTML = "";
    if (ws) { ws.onclose = null; ws.close(); ws = null; }
    showStatus(); start();
  });

  function setOpen(open) {
    wantOpen = open;
    panel.hidden = !open;
    if (open) log.scrollTop = log.scrollHeight;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { start(); (composer.hidden ? (prechatForm.hidden ? $(".close") : prechatForm.querySelector("input")) : input).focus(); markRead(); }
    else launcher.focus();
  }
  launcher.addEventListener("click", () => setOpen(panel.hidden));
  $(".close").addEventListener("click", () => setOpen(false));
  root.addEventListener("keydown", (e) => { if (e.key === "Escape" && !panel.hidden) setOpen(false); });
  document.addEventListener("visibilitychange", markRead);

  function start() {
    if (saved().resume || contextToken || prechat || (script.dataset.session === "1" && !triedLogin)) {
      triedLogin = true; connect(); return;
    }
    prechatForm.hidden = false;
    composer.hidden = true;
    statusEl.textContent = config.agents_available === false ? T.no_agents : "";
  }

  fetch(base + "/chat/w/" + encodeURIComponent(key) + "/config?lang=" + lang)
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((c) => {
      config = c; T = c.strings;
      applyStrings();
      showStatus();
      (document.body || document.documentElement).append(host);
      if (saved().resume) connect(); // a conversation in progress comes back after a page load
      if (wantOpen) setOpen(true);
    })
    .catch(() => { /* the desk is unreachable: show nothing rather than a broken button */ });
})();
