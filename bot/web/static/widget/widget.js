/*
 * Family support chat widget. One tag creates everything:
 *
 *   <script src="https://chat.example.org/widget.js" data-server="https://chat.example.org"
 *           data-title="Family support" data-provider="Example Recovery Center" defer></script>
 *
 * Vanilla JavaScript, no build step, no third-party code. The widget lives in a shadow DOM so the host page's
 * styles do not reach it and its styles do not leak out. Message text is only ever inserted with textContent.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.FamilySupportChat) return;

  var scriptUrl = new URL(script.src, window.location.href);
  var data = script.dataset;
  var SERVER = (data.server || scriptUrl.origin).replace(/\/+$/, "");
  var TITLE = data.title || "Family support";
  var PROVIDER = data.provider || "";
  var TIMEOUT_MS = parseInt(data.timeout, 10) > 0 ? parseInt(data.timeout, 10) : 20000;
  var STORAGE_KEY = "family-chat:" + SERVER;
  var MAX_ENTRIES = 200;
  var HELP_SOON = "If you need help now, use \u201cGet help now\u201d above. In an emergency, call 911.";
  var ERRORS = {
    network: "Sorry, I can't reach the assistant right now. Please check your connection and try again. " + HELP_SOON,
    timeout: "Sorry, the assistant is taking too long to answer. Please try again. " + HELP_SOON,
    refused: "Sorry, I couldn't send that message. Please try a shorter one. In an emergency, call 911.",
    empty: "Sorry, I didn't get an answer. Please try again. " + HELP_SOON,
    busy: "Sorry, that was a lot of messages at once. Please wait a few seconds and try again. In an emergency, " +
      "call 911; for a crisis, call or text 988.",
  };
  // Static, so they work with no server at all.
  var HELPLINES = [
    {
      name: "Emergency: 911",
      about: "If someone is unresponsive, not breathing, having a seizure or in danger.",
      links: [{ label: "Call 911", href: "tel:911" }],
      urgent: true,
    },
    {
      name: "988 Suicide & Crisis Lifeline",
      about: "If someone may harm themselves, or you are in crisis. Free, confidential, 24/7.",
      links: [
        { label: "Call 988", href: "tel:988" },
        { label: "Text 988", href: "sms:988" },
      ],
    },
    {
      name: "SAMHSA National Helpline",
      about: "Free, confidential treatment referral and information, 24/7, in English and Spanish.",
      links: [{ label: "Call 1-800-662-4357", href: "tel:+1-800-662-4357" }],
    },
    {
      name: "Poison Help",
      about: "Questions about a possible overdose or mixing medicines.",
      links: [{ label: "Call 1-800-222-1222", href: "tel:+1-800-222-1222" }],
    },
  ];

  // ------------------------------------------------------------------ state (kept in this browser only)

  function newSenderId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = window.crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function loadState() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.transcript)) return saved;
    } catch (error) { /* storage disabled or corrupt: start fresh */ }
    return { sender: newSenderId(), transcript: [], open: false };
  }

  function saveState() {
    state.transcript = state.transcript.slice(-MAX_ENTRIES);
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (error) { /* storage full or disabled: the chat still works, it just won't survive a reload */ }
  }

  var state = loadState();
  var busy = false;
  var currentTurn = null; // only the latest request may update the conversation
  var liveTimer = null; // the live hand-off's next poll (state.live: {status, after, name} while one is open)
  var liveRound = 0; // "Start over" makes an answer to an older poll stale

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs.text;
      else if (name === "className") node.className = attrs.className;
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function icon(path) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "fc-icon");
    var shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }

  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    phone: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 "
      + "1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
    close: "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7l-1.4-1.4L9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z",
    send: "M3 20.5 21 12 3 3.5 3 10l12 2-12 2z",
    restart: "M12 5V2L7 6l5 4V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z",
  };

  // URLs, North American phone numbers and the short emergency numbers become links; everything else is text.
  var LINKABLE = /(https?:\/\/[^\s<>"']+)|(\b(?:1-)?\d{3}-\d{3}-\d{4}\b)|(\b(?:911|988)\b)/g;

  function telHref(number) {
    var digits = number.replace(/\D/g, "");
    if (digits.length <= 3) return "tel:" + digits;
    if (digits.length === 10) digits = "1" + digits;
    return "tel:+" + digits[0] + "-" + digits.slice(1, 4) + "-" + digits.slice(4, 7) + "-" + digits.slice(7);
  }

  function linkify(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    var match;
    LINKABLE.lastIndex = 0;
    while ((match = LINKABLE.exec(text)) !== null) {
      var found = match[0];
      var trailing = "";
      if (match[1]) {
        trailing = found.match(/[.,;:!?)\]]*$/)[0];
        found = found.slice(0, found.length - trailing.length);
      }
      fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = el("a", { text: found, className: "fc-link" });
      if (match[1]) {
        link.href = found;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
      } else {
        link.href = telHref(found);
        link.className += " fc-tel";
      }
      fragment.appendChild(link);
      last = match.index + found.length;
      LINKABLE.lastIndex = last + trailing.length;
      if (trailing) {
        fragment.appendChild(document.createTextNode(trailing));
        last += trailing.length;
      }
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  // ------------------------------------------------------------------ the widget's DOM

  var host = el("div", { id: "family-support-chat" });
  host.style.setProperty("display", "none", "important"); // until the stylesheet has loaded
  var root = host.attachShadow({ mode: "open" });
  var stylesheet = el("link", { rel: "stylesheet", href: new URL("static/widget/widget.css", scriptUrl).href });
  var shown = false;
  function reveal() {
    if (!shown) host.style.removeProperty("display");
    shown = true;
  }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);
  window.setTimeout(reveal, 4000);
  root.appendChild(stylesheet);

  var helpLaunch = el("button", { type: "button", className: "fc-help-launch", "aria-haspopup": "dialog" },
    [icon(ICONS.phone), el("span", { text: "Get help now" })]);
  var launcher = el("button", {
    type: "button", className: "fc-launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
    "aria-controls": "fc-panel",
  }, [icon(ICONS.chat), el("span", { text: "Questions? Chat with us" })]);
  var dock = el("div", { className: "fc-dock" }, [helpLaunch, launcher]);

  var closeButton = el("button", { type: "button", className: "fc-icon-button", "aria-label": "Close chat" },
    [icon(ICONS.close)]);
  var subtitle = PROVIDER ? PROVIDER + " \u00b7 automated assistant" : "Automated assistant";
  var subtitleText = el("p", { className: "fc-subtitle", text: subtitle });
  var header = el("header", { className: "fc-header" }, [
    el("div", { className: "fc-heading" }, [
      el("h2", { id: "fc-title", className: "fc-title", text: TITLE }),
      subtitleText,
    ]),
    closeButton,
  ]);

  var helpButton = el("button", {
    type: "button", className: "fc-help-button", "aria-expanded": "false", "aria-controls": "fc-help",
  }, [icon(ICONS.phone), el("span", { text: "Get help now" })]);
  var restartButton = el("button", { type: "button", className: "fc-restart" },
    [icon(ICONS.restart), el("span", { text: "Start over" })]);
  var toolbar = el("div", { className: "fc-toolbar" }, [helpButton, restartButton]);

  var helpBack = el("button", { type: "button", className: "fc-back", text: "Back to the chat" });
  var helpList = el("ul", { className: "fc-helplines" });
  HELPLINES.forEach(function (line) {
    var links = line.links.map(function (link) {
      return el("a", { href: link.href, className: "fc-call" + (line.urgent ? " fc-call-urgent" : ""),
        text: link.label });
    });
    helpList.appendChild(el("li", { className: "fc-helpline" }, [
      el("h4", { className: "fc-helpline-name", text: line.name }),
      el("p", { className: "fc-helpline-about", text: line.about }),
      el("div", { className: "fc-helpline-links" }, links),
    ]));
  });
  var helpTitle = el("h3", { id: "fc-help-title", className: "fc-help-title", text: "Get help now", tabindex: "-1" });
  var help = el("section", { id: "fc-help", className: "fc-help", "aria-labelledby": "fc-help-title" }, [
    helpTitle,
    el("p", { className: "fc-help-intro", text: "You can talk to someone right now. These services are free." }),
    helpList,
    helpBack,
  ]);
  help.hidden = true;

  var notice = el("div", { className: "fc-notice", role: "note", "aria-label": "About this chat" }, [
    el("p", {}, [el("strong", { text: "This is an automated assistant." }),
      document.createTextNode(" It shares general information, not medical advice.")]),
    el("p", { text: "What is stored: the messages of this conversation, so the assistant can answer and so staff "
      + "can improve this service. You don't need to give names or contact details. This browser keeps a copy so "
      + "the chat survives a reload; \u201cStart over\u201d clears it." }),
    el("p", { className: "fc-notice-emergency" }, [linkify("In an emergency, call 911.")]),
  ]);
  var log = el("div", { className: "fc-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var typing = el("div", { className: "fc-typing" }, [
    el("span", { className: "fc-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
    el("span", { className: "fc-sr", text: "The assistant is typing" }),
  ]);
  typing.hidden = true;
  var scroller = el("div", { className: "fc-scroll" }, [notice, log, typing]);

  var input = el("textarea", {
    id: "fc-input", className: "fc-input", rows: "1", maxlength: "2000", placeholder: "Type your question\u2026",
    autocomplete: "off",
  });
  var sendButton = el("button", { type: "submit", className: "fc-send", "aria-label": "Send" }, [icon(ICONS.send)]);
  var composer = el("form", { className: "fc-composer" }, [
    el("label", { for: "fc-input", className: "fc-sr", text: "Type your question" }),
    input,
    sendButton,
  ]);
  var chat = el("div", { className: "fc-chat" }, [scroller, composer]);

  var panel = el("section", {
    id: "fc-panel", className: "fc-panel", role: "dialog", "aria-labelledby": "fc-title", tabindex: "-1",
  }, [header, toolbar, help, chat]);
  panel.hidden = true;

  root.appendChild(el("div", { className: "fc-root" }, [dock, panel]));

  // ------------------------------------------------------------------ rendering

  function scrollToShow(node) {
    // The start of a new answer, as far down as the conversation allows (long answers are read from the top).
    scroller.scrollTop = node ? node.offsetTop - 12 : scroller.scrollHeight;
  }

  function quickReplies(buttons) {
    var group = el("div", { className: "fc-replies", role: "group", "aria-label": "Suggested topics" });
    buttons.forEach(function (button) {
      var reply = el("button", { type: "button", className: "fc-reply" + (button.live ? " fc-reply-live" : ""),
        text: button.title });
      reply.addEventListener("click", function () {
        if (button.live) requestLive(button.title);
        else send(button.payload, button.title);
      });
      group.appendChild(reply);
    });
    return group;
  }

  function renderEntry(entry) {
    if (entry.role === "notice") { // the live hand-off's "... has joined" / "... has left"
      var notice = el("div", { className: "fc-msg fc-msg-notice", role: "status" }, [el("p", { text: entry.text })]);
      log.appendChild(notice);
      return notice;
    }
    if (entry.role === "staff") { // a person from the provider, by name
      var said = el("div", { className: "fc-bubble" }, [linkify(entry.text || "")]);
      var staffRow = el("div", { className: "fc-msg fc-msg-staff" }, [
        el("span", { className: "fc-who", text: entry.name || "Staff" }), said]);
      log.appendChild(staffRow);
      return staffRow;
    }
    var from = entry.role === "user" ? "user" : "bot";
    var bubble = el("div", { className: "fc-bubble" });
    if (from === "bot") bubble.appendChild(linkify(entry.text || ""));
    else bubble.textContent = entry.text;
    var who = el("span", { className: "fc-sr", text: from === "user" ? "You said: " : "Assistant: " });
    var row = el("div", { className: "fc-msg fc-msg-" + from }, [who, bubble]);
    log.appendChild(row);
    return row;
  }

  // The buttons of the answers since the family's last message, as one group after the last answer.
  function showQuickReplies() {
    var buttons = [];
    var seen = {};
    for (var i = state.transcript.length - 1; i >= 0 && state.transcript[i].role !== "user"; i--) {
      (state.transcript[i].buttons || []).slice().reverse().forEach(function (button) {
        if (!seen[button.payload]) buttons.unshift(button);
        seen[button.payload] = true;
      });
    }
    if (buttons.length) log.appendChild(quickReplies(buttons));
  }

  function clearQuickReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".fc-replies"), function (node) { node.remove(); });
  }

  function clearErrors() {
    Array.prototype.forEach.call(log.querySelectorAll(".fc-msg-error"), function (node) { node.remove(); });
  }

  function restore() {
    log.textContent = "";
    state.transcript.forEach(renderEntry);
    showQuickReplies();
    scrollToShow(null);
  }

  function addEntry(entry) {
    state.transcript.push(entry);
    saveState();
    return renderEntry(entry);
  }

  function showError(text, retry) {
    var row = el("div", { className: "fc-msg fc-msg-error" }, [
      el("span", { className: "fc-sr", text: "Error: " }),
      el("div", { className: "fc-bubble" }, [linkify(text)]),
    ]);
    if (retry) {
      var again = el("button", { type: "button", className: "fc-retry", text: "Retry" });
      again.addEventListener("click", function () {
        row.remove();
        retry();
      });
      row.appendChild(again);
    }
    log.appendChild(row);
    scrollToShow(row);
  }

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    sendButton.disabled = value;
    panel.setAttribute("aria-busy", value ? "true" : "false");
    if (value) scrollToShow(null);
  }

  // ------------------------------------------------------------------ talking to the server

  function firstText(body) {
    if (!Array.isArray(body)) return "";
    var texts = body.filter(function (m) { return m && typeof m.text === "string"; });
    return texts.length ? texts[0].text : "";
  }

  function post(message, signal) {
    return postJson("/webhooks/rest/webhook", { sender: state.sender, message: message }, signal);
  }

  // One turn: the typing indicator while waiting, then the answers, or a visible error with "Retry".
  function deliver(message) {
    var turn = {};
    currentTurn = turn;
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    setBusy(true);
    return post(message, controller.signal).then(function (answer) {
      // Too many messages from this address (the server's or nginx's rate limit): the calm reply, and the help panel
      if (answer.status === 429) return { error: firstText(answer.body) || ERRORS.busy, retry: true, help: true };
      if (answer.status >= 500) return { error: firstText(answer.body) || ERRORS.network, retry: true };
      if (!Array.isArray(answer.body)) return { error: ERRORS.refused, retry: answer.status < 400 };
      // a person has the conversation: the assistant is paused and only an emergency gets an answer
      if (!answer.body.length) return state.live ? { messages: [] } : { error: ERRORS.empty, retry: true };
      return { messages: answer.body };
    }, function (error) {
      return { error: error && error.name === "AbortError" ? ERRORS.timeout : ERRORS.network, retry: true };
    }).then(function (result) {
      window.clearTimeout(timer);
      if (turn !== currentTurn) return; // "Start over" was pressed meanwhile
      setBusy(false);
      if (result.error) {
        showError(result.error, result.retry ? function () { deliver(message); } : null);
        if (result.help) showHelp(true);
        return;
      }
      var first = null;
      var lastAdded = null;
      result.messages.forEach(function (m) {
        var offer = m.custom && m.custom.live_chat && m.custom.live_chat.offer;
        if (typeof offer === "string" && lastAdded) { // "Chat with our team": a button under the offer
          lastAdded.buttons.push({ title: offer, payload: "", live: true });
          saveState();
          return;
        }
        if (typeof m.text !== "string" && !Array.isArray(m.buttons)) return;
        var buttons = (m.buttons || []).filter(function (b) {
          return b && typeof b.title === "string" && typeof b.payload === "string";
        }).map(function (b) { return { title: b.title, payload: b.payload }; });
        lastAdded = { role: "bot", text: m.text || "", buttons: buttons };
        var row = addEntry(lastAdded);
        first = first || row;
      });
      showQuickReplies();
      scrollToShow(first);
    });
  }

  function send(message, shownText) {
    if (busy || !message.trim()) return;
    clearQuickReplies();
    clearErrors();
    if (shownText) {
      addEntry({ role: "user", text: shownText });
      scrollToShow(null);
    }
    deliver(message);
  }

  // ------------------------------------------------------------------ live hand-off (a person from the provider)

  // every request of the widget: JSON, no cookies, no cache, no referrer; resolves to {status, body}
  function postJson(path, payload, signal) {
    return window.fetch(SERVER + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      signal: signal,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }

  function showLiveHeader() {
    subtitleText.textContent = state.live && state.live.status === "active" && state.live.name
      ? "Chatting with " + state.live.name + (PROVIDER ? " \u00b7 " + PROVIDER : "") : subtitle;
  }

  function scheduleLive(seconds) {
    window.clearTimeout(liveTimer);
    liveTimer = window.setTimeout(pollLive, Math.max(0.5, Number(seconds) || 1) * 1000);
  }

  function stopLive() {
    window.clearTimeout(liveTimer);
    liveTimer = null;
    liveRound += 1;
  }

  function liveUpdates(body) {
    var first = null;
    (body.messages || []).forEach(function (m) {
      var row = null;
      if (m.kind === "staff") row = addEntry({ role: "staff", name: m.name, text: m.text });
      else if (m.kind === "timed_out") {
        (m.texts || []).forEach(function (text) { row = row || addEntry({ role: "bot", text: text }); });
      } else if (typeof m.text === "string") row = addEntry({ role: "notice", text: m.text });
      first = first || row;
    });
    if (first) scrollToShow(first);
  }

  function pollLive() {
    if (!state.live) return;
    var round = liveRound;
    postJson("/live/poll", { sender: state.sender, after: state.live.after || 0 }).then(function (answer) {
      if (round !== liveRound || !state.live) return;
      var body = answer.body;
      if (answer.status === 404) { // live chat switched off meanwhile
        state.live = null;
        saveState();
        showLiveHeader();
        return;
      }
      if (!body || answer.status >= 400) return scheduleLive(2);
      liveUpdates(body);
      state.live.after = body.after || state.live.after;
      state.live.status = body.status;
      state.live.name = body.name || state.live.name;
      if (body.status !== "waiting" && body.status !== "active") state.live = null;
      saveState();
      showLiveHeader();
      if (state.live) scheduleLive(body.poll_seconds);
    }, function () {
      if (round === liveRound) scheduleLive(2);
    });
  }

  // "Chat with our team": into the live queue (or, outside staffed hours, the helpline and the provider's contact)
  function requestLive(title) {
    if (busy) return;
    clearQuickReplies();
    clearErrors();
    addEntry({ role: "user", text: title });
    setBusy(true);
    var round = liveRound;
    postJson("/live/request", { sender: state.sender }).then(function (answer) {
      if (round !== liveRound) return;
      setBusy(false);
      var body = answer.body || {};
      var texts = (body.messages || []).filter(function (text) { return typeof text === "string"; });
      if (!texts.length && answer.status >= 400) {
        showError(ERRORS.network, function () { requestLive(title); });
        return;
      }
      var first = null;
      texts.forEach(function (text) { first = first || addEntry({ role: "bot", text: text }); });
      if (body.status === "waiting" || body.status === "active") {
        state.live = { status: body.status, after: body.after || 0, name: body.name || "" };
        saveState();
        scheduleLive(body.poll_seconds);
      }
      showLiveHeader();
      scrollToShow(first);
    }, function () {
      if (round !== liveRound) return;
      setBusy(false);
      showError(ERRORS.network, function () { requestLive(title); });
    });
  }

  function greetIfNew() {
    if (!state.transcript.length && !busy && !log.querySelector(".fc-msg-error")) send("/greet", null);
  }

  // ------------------------------------------------------------------ opening, closing, help

  function focusComposer() {
    // Phones would pop up the keyboard over the answer: focus the panel there instead.
    if (window.matchMedia("(pointer: fine)").matches) input.focus();
    else panel.focus();
  }

  function showHelp(visible) {
    help.hidden = !visible;
    chat.hidden = visible;
    helpButton.setAttribute("aria-expanded", String(visible));
    if (visible) helpTitle.focus();
    else {
      greetIfNew();
      focusComposer();
    }
  }

  function open(withHelp) {
    panel.hidden = false;
    dock.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    showHelp(Boolean(withHelp));
  }

  function close() {
    panel.hidden = true;
    dock.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  function startOver() {
    stopLive();
    state = { sender: newSenderId(), transcript: [], open: true };
    showLiveHeader();
    saveState();
    currentTurn = null;
    log.textContent = "";
    setBusy(false);
    showHelp(false);
  }

  launcher.addEventListener("click", function () { open(false); });
  helpLaunch.addEventListener("click", function () { open(true); });
  closeButton.addEventListener("click", close);
  helpButton.addEventListener("click", function () { showHelp(help.hidden); });
  helpBack.addEventListener("click", function () { showHelp(false); });
  restartButton.addEventListener("click", startOver);
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    send(text, text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (!help.hidden) showHelp(false);
    else close();
  });
  // Any element of the host page with data-family-chat-open="chat" or ="help" opens the widget.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-family-chat-open]");
    if (!opener) return;
    event.preventDefault();
    open(opener.getAttribute("data-family-chat-open") === "help");
  });

  window.FamilySupportChat = {
    open: function () { open(false); },
    help: function () { open(true); },
    close: close,
  };

  function mount() {
    document.body.appendChild(host);
    restore();
    showLiveHeader();
    if (state.live) scheduleLive(0.5); // a hand-off open before the reload
    if (state.open) open(false);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
