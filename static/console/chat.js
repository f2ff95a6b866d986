/* The chat desk: several chats side by side on the console socket. Messages are sent as socket frames with a
 * client_msg_id (acked with their seq once stored) and shown by fetching the ticket's message fragments after
 * the last seq, the same path as the ticket page, so a missed event costs a fetch, never a message. */
(function () {
  "use strict";
  const C = window.CARDDESK || {};
  const T = C.i18n || {};
  const sock = C.socket;
  if (!sock) return;
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const panels = new Map($$(".chat-panel").map((p) => [Number(p.dataset.ticket), p]));
  const uid = () => (crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "") : Date.now().toString(36) + Math.random().toString(36).slice(2));

  async function refill(panel) {
    const last = Number(panel.dataset.lastSeq || 0);
    const r = await fetch(panel.dataset.messagesUrl + "?after=" + last, { headers: { "X-Requested-With": "fetch" } });
    if (!r.ok) return;
    const html = await r.text();
    const box = panel.querySelector(".thread");
    const tmp = document.createElement("div");
    tmp.innerHTML = html;
    for (const el of Array.from(tmp.children)) {
      if (!box.querySelector('[data-seq="' + el.dataset.seq + '"]')) box.append(el);
    }
    panel.dataset.lastSeq = r.headers.get("X-Last-Seq") || last;
    box.scrollTop = box.scrollHeight;
    sock.send({ type: "read", ticket: Number(panel.dataset.ticket), seq: Number(panel.dataset.lastSeq) });
  }

  let incomingTimer = null;
  function refreshIncoming() {
    clearTimeout(incomingTimer);
    incomingTimer = setTimeout(async () => {
      const list = document.getElementById("incoming");
      const r = await fetch(list.dataset.url);
      if (r.ok) list.innerHTML = await r.text();
    }, 150);
  }

  sock.onOpen.push(() => {
    for (const [ticket, panel] of panels) { sock.send({ type: "watch", ticket }); refill(panel); }
    refreshIncoming();
  });
  sock.handlers.push((f) => {
    const panel = panels.get(f.ticket);
    if (f.type === "message.created" && panel) refill(panel);
    else if (f.type === "presence" && panel && f.kind === "customer") {
      const el = panel.querySelector(".typing");
      el.textContent = f.state === "typing" ? T.customerTyping : "";
      clearTimeout(el._t);
      el._t = setTimeout(() => { el.textContent = ""; }, 8000);
    } else if (f.type === "ack" && panel) {
      const form = panel.querySelector(".chat-compose");
      if (form.dataset.clientMsgId === f.client_msg_id) {
        form.querySelector("textarea").value = "";
        form.querySelector(".internal").checked = false;
        form.dataset.clientMsgId = uid();
        form.querySelector(".error").textContent = "";
      }
    } else if (f.type === "error" && panel && f.client_msg_id) {
      panel.querySelector(".chat-compose .error").textContent = T.notSent + " " + f.message;
    } else if (f.type === "chat.session") {
      if (panel || (f.state === "active" && !panel && f.chat)) location.reload(); // a chat of mine changed hands
      else refreshIncoming();
    } else if (f.type === "chat.waiting") refreshIncoming();
  });

  for (const [ticket, panel] of panels) {
    const form = panel.querySelector(".chat-compose");
    const area = form.querySelector("textarea");
    let typingAt = 0;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = area.value.trim();
      if (!body) return;
      // The same client_msg_id until acked: a resend after a reconnect never duplicates the reply.
      sock.send({ type: "message", ticket, client_msg_id: form.dataset.clientMsgId, body, internal: form.querySelector(".internal").checked });
      sock.send({ type: "typing", ticket, state: "stop" });
    });
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    area.addEventListener("input", () => {
      if (form.querySelector(".internal").checked) return; // writing a note: the customer sees no "typing"
      if (Date.now() - typingAt > 3000) { typingAt = Date.now(); sock.send({ type: "typing", ticket, state: "start" }); }
    });
    const canned = form.querySelector(".canned");
    if (canned) canned.addEventListener("change", async () => {
      if (!canned.value) return;
      const r = await fetch(canned.dataset.urlBase + canned.value + "/");
      if (r.ok) { const j = await r.json(); area.value = (area.value ? area.value + "\n" : "") + j.body; area.focus(); }
      canned.value = "";
    });
  }

  /* presence: chosen in the select; away after 5 idle minutes, back online on activity */
  const presence = document.getElementById("presence");
  let autoAway = false;
  let idleTimer = null;
  presence.addEventListener("change", () => { autoAway = false; sock.send({ type: "presence", state: presence.value }); });
  function active() {
    if (autoAway) { autoAway = false; presence.value = "online"; sock.send({ type: "presence", state: "online" }); }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (presence.value === "online") { autoAway = true; presence.value = "away"; sock.send({ type: "presence", state: "away" }); }
    }, 5 * 60 * 1000);
  }
  ["mousemove", "keydown", "click", "focus"].forEach((ev) => window.addEventListener(ev, active, { passive: true }));
  active();
})();
