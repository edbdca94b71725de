// The navigation's "Needs attention" count on every console page, and the live list on the alerts page: polls
// /staff/alerts/live (bot/staff/alert_views.py says why polling); the list's HTML is rendered and escaped by the server.
(function () {
  "use strict";
  const nav = document.getElementById("nav-alerts");
  if (!nav) return;
  const every = Math.max(1, Number(nav.dataset.refresh) || 2) * 1000;
  const list = document.getElementById("alerts-live");
  const status = document.getElementById("alerts-status");
  const title = document.title;
  let lastHtml = list ? list.innerHTML : null;
  let known = ids();

  function ids() {
    return new Set(list ? Array.from(list.querySelectorAll("[data-alert]"), (el) => el.dataset.alert) : []);
  }

  function show(open) {
    nav.querySelector(".count").textContent = String(open);
    nav.classList.toggle("alerting", open > 0);
    document.title = open > 0 ? "(" + open + ") " + title : title;
  }

  async function tick() {
    try {
      const answer = await fetch(nav.dataset.live + (list ? "?list=1" : ""), {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
      });
      const type = answer.headers.get("Content-Type") || "";
      if (!answer.ok || !type.includes("application/json")) {
        // logged out or the session ended: the console's next page asks to log in
        if (status) status.textContent = "Not updating: reload the page to log in again.";
        return;
      }
      const data = await answer.json();
      show(data.open);
      if (list && typeof data.html === "string" && data.html !== lastHtml) {
        list.innerHTML = data.html;
        lastHtml = data.html;
        const now = ids();
        now.forEach((id) => {
          if (!known.has(id)) list.querySelector('[data-alert="' + id + '"]').classList.add("new");
        });
        known = now;
      }
      if (status) status.textContent = "";
    } catch (error) {
      if (status) status.textContent = "Connection lost; trying again…";
    }
    window.setTimeout(tick, every);
  }

  window.setTimeout(tick, every);
})();
