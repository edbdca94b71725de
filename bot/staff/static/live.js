// Live hand-off (bot/staff/live_views.py): the live queue refreshes itself, and an open live chat shows the family's
// new messages and sends the staff member's without a reload. Polling, as alerts.js does; message text is only ever
// inserted with textContent (the queue's HTML is rendered and escaped by the server).
(function () {
  "use strict";

  async function getJson(url) {
    const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
    const type = answer.headers.get("Content-Type") || "";
    if (!answer.ok || !type.includes("application/json")) throw new Error("logged out");
    return answer.json();
  }

  // ---------------------------------------------------------------- the queue page
  const queue = document.getElementById("live-queue");
  if (queue) {
    const every = Math.max(1, Number(queue.dataset.refresh) || 2) * 1000;
    const status = document.getElementById("live-status");
    const nav = document.getElementById("nav-live");
    let lastHtml = queue.innerHTML;
    const tick = async () => {
      try {
        const data = await getJson(queue.dataset.live);
        if (nav) {
          nav.querySelector(".count").textContent = String(data.waiting);
          nav.classList.toggle("alerting", data.waiting > 0);
        }
        // never replace the list while someone types a name into it
        const typing = queue.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
        if (data.html !== lastHtml && !typing) {
          queue.innerHTML = data.html;
          lastHtml = data.html;
        }
        status.textContent = "";
      } catch (error) {
        status.textContent = "Not updating: reload the page (to log in again).";
      }
      window.setTimeout(tick, every);
    };
    window.setTimeout(tick, every);
  }

  // ---------------------------------------------------------------- one live chat
  const feed = document.getElementById("live-feed");
  if (!feed) return;
  const every = Math.max(0.5, Number(feed.dataset.refresh) || 1) * 1000;
  const banner = document.getElementById("live-emergency");
  const title = document.title;
  let after = Number(feed.dataset.after) || 0;

  function showEmergency() {
    banner.hidden = false;
    document.title = "(!) Emergency · " + title;
  }
  function add(item) {
    if (feed.querySelector('[data-event-id="' + item.id + '"]')) return;
    const kind = item.who === "family" ? "user" : item.who === "staff" ? "staff" : item.who === "notice" ? "notice" : "bot";
    const row = document.createElement("div");
    row.className = "msg " + kind + (item.emergency ? " esc-emergency" : "");
    row.dataset.eventId = String(item.id);
    const who = document.createElement("div");
    who.className = "who";
    who.textContent = item.who === "family" ? "Family" : item.who === "staff" ? item.name : item.who === "notice" ? "Notice" : "Assistant";
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = item.text;
    row.append(who, text);
    feed.appendChild(row);
    feed.scrollTop = feed.scrollHeight;
    if (item.emergency) showEmergency();
  }

  let fetching = null;
  function refresh() {
    fetching = fetching || load().finally(() => { fetching = null; });
    return fetching;
  }

  async function tick() {
    await refresh();
    window.setTimeout(tick, every);
  }

  async function load() {
    try {
      const data = await getJson(feed.dataset.feed + "?after=" + after);
      data.items.forEach(add);
      after = data.after;
      const state = document.getElementById("live-state");
      if (state.dataset.status !== data.status) {
        state.dataset.status = data.status;
        if (data.status !== "active") state.textContent = "This chat is " + data.status + ". Reload the page for details.";
      }
    } catch (error) {
      /* the next tick tries again */
    }
  }
  feed.scrollTop = feed.scrollHeight;
  window.setTimeout(tick, every);

  const form = document.getElementById("live-send");
  if (!form) return;
  const box = document.getElementById("live-text");
  const error = document.getElementById("live-send-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!box.value.trim()) return;
    const body = new FormData(form);
    error.textContent = "";
    try {
      const answer = await fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json" } });
      const data = await answer.json().catch(() => ({ ok: false, error: "Not sent: reload the page." }));
      if (!data.ok) {
        error.textContent = data.error || "Not sent.";
        return;
      }
      box.value = "";
      box.focus();
      refresh();
    } catch (failure) {
      error.textContent = "Not sent: the connection was lost. Try again.";
    }
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
