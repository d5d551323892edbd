// The engineers' queue: live rows, countdowns that tick, a side panel and keyboard shortcuts. Plain JavaScript.
//
// Without this file the page still works: rows link to the ticket pages, "Take next" posts a form and filters are a
// GET form. With it, the page polls /staff/queue/rows/ (204 while nothing changed), works tickets in a side panel
// through the ticket pages' own actions (asked with X-Requested-With: fetch, they answer with the panel), and says
// plainly when the server cannot be reached instead of showing stale rows as live.
(function () {
  "use strict";

  const root = document.getElementById("queue");
  if (!root || !root.dataset.rowsUrl) {
    return; // the filters were refused: nothing is shown as live
  }
  const live = document.getElementById("queue-live");
  const liveStatus = document.getElementById("queue-live-status");
  const offline = document.getElementById("queue-offline");
  const notice = document.getElementById("queue-notice");
  const panel = document.getElementById("queue-panel");
  const panelBody = document.getElementById("queue-panel-body");
  const help = document.getElementById("queue-help");
  const helpButton = document.getElementById("queue-help-button");
  const takeNextForm = document.getElementById("take-next-form");

  const pollMs = Number(root.dataset.pollSeconds || "5") * 1000;
  const requestTimeoutMs = 8000;
  // Count down from the server's clock: the browser's may be off. The skew is measured once, when the page loads.
  const skewMs = Number(root.dataset.serverNow) - Date.now();
  const clockTime = new Intl.DateTimeFormat("en-GB", {
    timeZone: root.dataset.zone || "UTC",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
  const zoneLabel = root.dataset.zone || "UTC";
  const fetchHeaders = { "X-Requested-With": "fetch" };
  const FLAGS = { ok: "", warning: "At risk", breached: "Breached" };

  let version = root.dataset.version;
  let confirmedAt = new Date(); // when the server last confirmed what the page shows
  let signedOut = false;
  let selectedTicket = null;
  let panelTicket = null;

  function now() {
    return Date.now() + skewMs;
  }

  // Exactly as tickets.queue.duration_text writes it on the server.
  function durationText(seconds) {
    let rest = Math.floor(Math.abs(seconds));
    const days = Math.floor(rest / 86400);
    rest -= days * 86400;
    const hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    const minutes = Math.floor(rest / 60);
    const secs = rest - minutes * 60;
    if (days) {
      return days + " d " + hours + " h";
    }
    if (hours) {
      return hours + " h " + minutes + " min";
    }
    if (minutes) {
      return minutes + " min " + secs + " s";
    }
    return secs + " s";
  }

  function tick() {
    const moment = now();
    for (const clock of live.querySelectorAll(".clock[data-due]")) {
      const left = (Number(clock.dataset.due) - moment) / 1000;
      let state = "ok";
      if (left <= 0) {
        state = "breached";
      } else if (moment >= Number(clock.dataset.warn)) {
        state = "warning";
      }
      if (!clock.classList.contains("clock-" + state)) {
        clock.classList.remove("clock-ok", "clock-warning", "clock-breached");
        clock.classList.add("clock-" + state);
        clock.querySelector(".clock-flag").textContent = FLAGS[state];
      }
      clock.querySelector(".clock-text").textContent = durationText(left) + (left > 0 ? " left" : " late");
    }
    for (const row of rows()) {
      row.classList.toggle("row-breached", row.querySelector(".clock-breached") !== null);
    }
    for (const age of live.querySelectorAll("[data-since]")) {
      age.textContent = durationText((moment - Number(age.dataset.since)) / 1000);
    }
  }

  // ------------------------------------------------------------------ live rows

  function rowsUrl() {
    const url = new URL(root.dataset.rowsUrl, window.location.href);
    url.searchParams.set("since", version);
    return url;
  }

  function timed(options) {
    const controller = new AbortController();
    const timer = window.setTimeout(function () {
      controller.abort();
    }, requestTimeoutMs);
    return { options: Object.assign({ signal: controller.signal, credentials: "same-origin" }, options), timer: timer };
  }

  function confirmLive() {
    confirmedAt = new Date();
    root.classList.remove("is-offline");
    offline.hidden = true;
    liveStatus.textContent = "Live: checked " + clockTime.format(confirmedAt) + " " + zoneLabel + ", every " +
      pollMs / 1000 + " s.";
  }

  function showOffline() {
    root.classList.add("is-offline");
    offline.hidden = false;
    offline.textContent = "Offline — showing data from " + clockTime.format(confirmedAt) + " " + zoneLabel +
      ". The server cannot be reached; retrying every " + pollMs / 1000 + " s.";
    liveStatus.textContent = "Offline.";
  }

  function showSignedOut() {
    signedOut = true;
    root.classList.add("is-offline");
    offline.hidden = false;
    offline.textContent = "Your session has ended — showing data from " + clockTime.format(confirmedAt) + " " +
      zoneLabel + ". Reload the page to sign in again.";
    liveStatus.textContent = "Not live: signed out.";
  }

  function isSignInPage(response) {
    return response.type === "opaqueredirect" || new URL(response.url || window.location.href).pathname.startsWith(
      "/accounts/login/"
    );
  }

  function swapRows(html) {
    const focused = document.activeElement && live.contains(document.activeElement) ?
      document.activeElement.closest("tr") : null;
    const focusedTicket = focused ? focused.dataset.ticket : null;
    live.innerHTML = html;
    select(selectedTicket, false);
    if (focusedTicket) {
      const row = rowFor(focusedTicket);
      const link = row && row.querySelector("a.queue-open");
      if (link) {
        link.focus({ preventScroll: true });
      }
    }
    tick();
  }

  let pollTimer = null;
  let polling = false;
  let pollAgain = false;

  async function poll() {
    if (polling) {
      pollAgain = true; // one request at a time; ask again as soon as this one answers
      return;
    }
    window.clearTimeout(pollTimer);
    if (signedOut) {
      return;
    }
    polling = true;
    const request = timed({ headers: fetchHeaders, redirect: "manual", cache: "no-store" });
    try {
      const response = await fetch(rowsUrl(), request.options);
      if (isSignInPage(response) || response.status === 404) {
        showSignedOut();
      } else if (response.status === 200) {
        const html = await response.text();
        version = response.headers.get("X-Queue-Version") || version;
        swapRows(html);
        confirmLive();
      } else if (response.status === 204) {
        confirmLive();
      } else {
        showOffline();
      }
    } catch (error) {
      showOffline();
    } finally {
      window.clearTimeout(request.timer);
      polling = false;
      if (!signedOut) {
        if (pollAgain) {
          pollAgain = false;
          poll();
        } else {
          pollTimer = window.setTimeout(poll, pollMs);
        }
      }
    }
  }

  // ------------------------------------------------------------------ selection and the side panel

  function rows() {
    return Array.from(live.querySelectorAll("tr.queue-row"));
  }

  function rowFor(ticket) {
    return rows().find(function (row) {
      return row.dataset.ticket === ticket;
    }) || null;
  }

  function select(ticket, scroll) {
    selectedTicket = ticket;
    for (const row of rows()) {
      const chosen = row.dataset.ticket === ticket;
      row.classList.toggle("is-selected", chosen);
      if (chosen) {
        row.setAttribute("aria-current", "true");
        if (scroll) {
          row.scrollIntoView({ block: "nearest" });
        }
      } else {
        row.removeAttribute("aria-current");
      }
    }
  }

  function move(step) {
    const all = rows();
    if (!all.length) {
      return;
    }
    const index = all.findIndex(function (row) {
      return row.dataset.ticket === selectedTicket;
    });
    const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    select(all[next].dataset.ticket, true);
  }

  function panelMessage(text) {
    const box = document.createElement("div");
    box.className = "error-summary";
    box.setAttribute("role", "alert");
    box.textContent = text;
    return box;
  }

  function showPanel(html) {
    panelBody.innerHTML = html; // the server's own fragment, escaped there; the CSP runs no script in it
    const article = panelBody.querySelector("[data-ticket]");
    panelTicket = article ? article.dataset.ticket : null;
    panel.hidden = false;
    root.classList.add("has-panel");
    if (panelTicket) {
      select(panelTicket, true);
    }
  }

  async function openPanel(url, then) {
    panel.hidden = false;
    root.classList.add("has-panel");
    panelBody.setAttribute("aria-busy", "true");
    const request = timed({ headers: fetchHeaders, redirect: "manual", cache: "no-store" });
    try {
      const response = await fetch(url, request.options);
      if (isSignInPage(response)) {
        showSignedOut();
        panelBody.replaceChildren(panelMessage("Your session has ended. Reload the page to sign in again."));
        return;
      }
      showPanel(await response.text());
      if (then) {
        then();
      } else {
        focusPanelTitle();
      }
    } catch (error) {
      panelBody.replaceChildren(panelMessage("The ticket could not be loaded: the server cannot be reached."));
    } finally {
      window.clearTimeout(request.timer);
      panelBody.removeAttribute("aria-busy");
    }
  }

  function focusPanelTitle() {
    const title = panelBody.querySelector("#panel-title");
    if (title) {
      title.focus();
    }
  }

  function focusReply() {
    const body = panelBody.querySelector("#reply textarea[name=body]");
    if (body) {
      body.focus();
    }
  }

  function closePanel() {
    if (panel.hidden) {
      return;
    }
    panel.hidden = true;
    root.classList.remove("has-panel");
    panelTicket = null;
    const row = rowFor(selectedTicket);
    const link = row && row.querySelector("a.queue-open");
    if (link) {
      link.focus();
    }
  }

  function openSelected(then) {
    const row = rowFor(selectedTicket);
    const link = row && row.querySelector("a.queue-open");
    if (link) {
      openPanel(link.href, then);
    }
  }

  function reply() {
    if (!panel.hidden && panelTicket && (panelTicket === selectedTicket || !selectedTicket)) {
      focusReply();
    } else if (selectedTicket) {
      openSelected(focusReply);
    }
  }

  // A form in the panel, or "Take next": posted with fetch. The answer is the panel of the ticket (the one acted on,
  // or the one just taken, after a redirect); a refused take-next answers with the refusal alone, shown by its form.
  async function submitForm(form, submitter) {
    const slot = form.querySelector("[data-problem]") || (form === takeNextForm ? notice : null);
    function problem(node) {
      if (slot) {
        slot.replaceChildren(node);
      } else {
        panelBody.prepend(node);
      }
    }
    const buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) {
      button.disabled = true;
    });
    const request = timed({
      method: "POST",
      body: new FormData(form, submitter),
      headers: fetchHeaders,
      redirect: "follow",
    });
    try {
      const response = await fetch(form.action, request.options);
      if (isSignInPage(response)) {
        showSignedOut();
        problem(panelMessage("Your session has ended: nothing was changed. Reload the page to sign in again."));
        return;
      }
      const html = await response.text();
      if (response.ok || !form.hasAttribute("data-take-next")) {
        showPanel(html);
        notice.replaceChildren();
        if (response.redirected) {
          focusPanelTitle();
        }
      } else {
        const refusal = document.createElement("div");
        refusal.innerHTML = html;
        problem(refusal);
      }
      poll(); // the change shows in the rows at once
    } catch (error) {
      problem(panelMessage("The server cannot be reached: nothing was changed. Your text is kept; try again."));
    } finally {
      window.clearTimeout(request.timer);
      buttons.forEach(function (button) {
        button.disabled = false;
      });
    }
  }

  function takeNext() {
    submitForm(takeNextForm, null);
  }

  // ------------------------------------------------------------------ wiring

  live.addEventListener("click", function (event) {
    const link = event.target.closest("a.queue-open");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return; // a new tab or window still opens the full ticket page
    }
    event.preventDefault();
    select(link.closest("tr").dataset.ticket, false);
    openPanel(link.href);
  });

  panelBody.addEventListener("submit", function (event) {
    event.preventDefault();
    submitForm(event.target, event.submitter);
  });

  takeNextForm.addEventListener("submit", function (event) {
    event.preventDefault();
    takeNext();
  });

  document.getElementById("queue-panel-close").addEventListener("click", closePanel);
  helpButton.hidden = false;
  helpButton.addEventListener("click", function () {
    help.showModal();
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || help.open) {
      return;
    }
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") {
        target.blur();
      }
      return;
    }
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "Enter":
        if (target === document.body || target.matches("tr, .table-scroll")) {
          openSelected(null);
        } else {
          return;
        }
        break;
      case "t":
        takeNext();
        break;
      case "r":
        reply();
        break;
      case "?":
        help.showModal();
        break;
      case "Escape":
        closePanel();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  confirmLive();
  tick();
  window.setInterval(tick, 1000);
  pollTimer = window.setTimeout(poll, pollMs);
})();
