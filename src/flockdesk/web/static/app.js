/* Flockdesk browser code: shortcuts, live inbox, composer (length, guard, saved replies, presence). */
(function () {
  "use strict";
  var body = document.body;
  var page = body.getAttribute("data-page");

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  function postJSON(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), "Accept": "application/json" },
      body: JSON.stringify(data || {})
    });
  }
  function typingTarget(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function toggleHelp(show) {
    var h = document.getElementById("help");
    if (h) { h.hidden = show === undefined ? !h.hidden : !show; }
  }

  /* ---- keyboard ---- */
  var handlers = {};
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { toggleHelp(false); if (typingTarget(ev.target)) { ev.target.blur(); } return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typingTarget(ev.target)) { return; }
    if (ev.key === "/") { var q = document.getElementById("q"); if (q) { ev.preventDefault(); q.focus(); } return; }
    if (ev.key === "?") { ev.preventDefault(); toggleHelp(); return; }
    var h = handlers[ev.key];
    if (h) { ev.preventDefault(); h(ev); }
  });
  var helpBox = document.getElementById("help");
  if (helpBox) { helpBox.addEventListener("click", function () { toggleHelp(false); }); }

  /* ---- team @mentions badge ---- */
  function refreshMentions() {
    var badge = document.getElementById("mentions-badge");
    if (!badge) { return; }
    fetch("/mentions/count", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        if (!res) { return; }
        badge.textContent = String(res.unread);
        badge.setAttribute("aria-label", res.unread + " unread");
        badge.hidden = !res.unread;
      });
  }

  /* ---- inbox ---- */
  function initInbox() {
    var list = document.getElementById("rows");
    var view = body.getAttribute("data-view") || "all";
    var query = body.getAttribute("data-query") || "";
    var newbar = document.getElementById("newbar");
    var selected = -1;

    function rows() { return Array.prototype.slice.call(list.querySelectorAll("li.row")); }
    function select(i) {
      var r = rows();
      if (!r.length) { return; }
      selected = Math.max(0, Math.min(i, r.length - 1));
      r.forEach(function (el, j) { el.classList.toggle("selected", j === selected); });
      r[selected].scrollIntoView({ block: "nearest" });
    }
    handlers.j = function () { select(selected + 1); };
    handlers.k = function () { select(selected - 1); };
    handlers.Enter = function () {
      var r = rows()[selected];
      if (r) { window.location.href = r.getAttribute("data-href"); }
    };
    handlers.a = function () {
      var r = rows()[selected];
      if (!r) { return; }
      postJSON("/api/v1/conversations/" + r.getAttribute("data-id") + "/assignments", { me: true })
        .then(function (resp) { if (resp.ok) { refresh(true); } });
    };
    list.addEventListener("click", function (ev) {
      var more = ev.target.closest("a[data-more]");
      if (more) {
        ev.preventDefault();
        var url = more.getAttribute("data-more").replace("/inbox/" + view + "?", "/inbox/" + view + "/rows?");
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
          var li = more.closest("li");
          var tmp = document.createElement("ol");
          tmp.innerHTML = html;
          while (tmp.firstChild) { list.insertBefore(tmp.firstChild, li); }
          li.remove();
        });
        return;
      }
      if (ev.target.closest("a")) { return; }
      var row = ev.target.closest("li.row");
      if (row) { window.location.href = row.getAttribute("data-href"); }
    });
    var filters = document.getElementById("filters");
    var filtersBox = document.getElementById("filters-box");
    // On a phone the eleven filters would fill the first screen; fold them unless one is set.
    if (filtersBox && window.matchMedia("(max-width: 760px)").matches && filtersBox.getAttribute("data-active") === "0") {
      filtersBox.open = false;
    }
    if (filters) {
      filters.addEventListener("change", function () { filters.submit(); });
    }

    var known = {};
    rows().forEach(function (r) { known[r.getAttribute("data-id")] = r.getAttribute("data-last"); });
    function refresh(quiet) {
      fetch("/inbox/" + view + "/rows?" + query, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          var tmp = document.createElement("ol");
          tmp.innerHTML = html;
          var added = 0;
          var incoming = Array.prototype.slice.call(tmp.querySelectorAll("li.row"));
          // rows that left the view (assigned away, resolved, filtered out) go; only when the fragment
          // is the whole first page (no "Load more"), or for rows ranked inside the first page
          var inView = {};
          incoming.forEach(function (li) { inView[li.getAttribute("data-id")] = true; });
          var wholeList = !tmp.querySelector("a[data-more]");
          var current = rows();
          var selId = selected >= 0 && current[selected] ? current[selected].getAttribute("data-id") : null;
          var lastKept = -1;
          current.forEach(function (el, i) {
            var id = el.getAttribute("data-id");
            if (inView[id]) { lastKept = i; }
          });
          current.forEach(function (el, i) {
            var id = el.getAttribute("data-id");
            if (!inView[id] && (wholeList || i < lastKept)) { el.remove(); delete known[id]; }
          });
          incoming.reverse().forEach(function (li) {
            var id = li.getAttribute("data-id");
            var existing = list.querySelector('li.row[data-id="' + id + '"]');
            if (existing) {
              if (known[id] !== li.getAttribute("data-last") || quiet) {
                li.classList.toggle("selected", existing.classList.contains("selected"));
                if (!quiet) { li.classList.add("fresh"); }
                existing.replaceWith(li);
              }
            } else {
              li.classList.add("fresh");
              list.insertBefore(li, list.firstChild);
              if (selected >= 0) { selected += 1; }
              added += 1;
            }
            known[id] = li.getAttribute("data-last");
          });
          var empty = document.getElementById("empty");
          if (empty && rows().length) { empty.remove(); }
          var now = rows();
          if (selected >= 0) {
            var keep = -1;
            now.forEach(function (el, j) { if (el.getAttribute("data-id") === selId) { keep = j; } });
            // the selected row left the view: select the row that took its place (or the new last one)
            selected = keep >= 0 ? keep : Math.min(selected, now.length - 1);
            now.forEach(function (el, j) { el.classList.toggle("selected", j === selected); });
          }
          if (added && newbar) {
            newbar.textContent = added + " new conversation" + (added > 1 ? "s" : "") + " at the top";
            newbar.classList.add("show");
            setTimeout(function () { newbar.classList.remove("show"); }, 6000);
          }
        });
    }
    newbar.addEventListener("click", function () { window.scrollTo(0, 0); newbar.classList.remove("show"); });
    if (window.EventSource) {
      var last = null;
      var es = new EventSource("/events");
      es.addEventListener("change", function (ev) {
        var snap = JSON.parse(ev.data);
        if (last !== null && (snap.max_message_id !== last.max_message_id || snap.max_audit_id !== last.max_audit_id)) {
          refresh(false);
          refreshMentions();
        }
        last = snap;
      });
    }
  }

  /* ---- conversation ---- */
  function initConversation() {
    var cid = body.getAttribute("data-cid");
    var kind = body.getAttribute("data-kind") === "dm" ? "dm" : "reply";
    var limit = parseInt(body.getAttribute("data-limit"), 10) || 280;
    var form = document.getElementById("composer");
    var text = document.getElementById("reply-text");
    var counter = document.getElementById("counter");
    var serverCount = document.getElementById("server-count");
    var guard = document.getElementById("guard");
    var guardText = document.getElementById("guard-text");
    var override = document.getElementById("override");
    var preview = document.getElementById("preview");
    var presenceEl = document.getElementById("presence");
    var saved = document.getElementById("saved");
    var idem = document.getElementById("idem");
    var flagged = false;
    var othersTypedAt = 0;
    var lastTyped = 0;
    var timer = null;

    function newKey() { return "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10); }
    idem.value = newKey();

    function updateCounter() {
      var n = window.FlockText ? window.FlockText.weightedLength(text.value, kind === "dm" ? "dm" : "post") : text.value.length;
      counter.textContent = n + " / " + limit;
      counter.classList.toggle("over", n > limit);
    }
    function check() {
      postJSON("/api/v1/check-reply", { text: text.value, kind: kind }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (res) {
        if (!res) { return; }
        serverCount.textContent = "server: " + res.weighted_length + " / " + res.limit;
        serverCount.classList.toggle("over", !res.valid && text.value.trim() !== "");
        flagged = res.flagged;
        if (flagged) {
          var what = res.asks_for_sensitive ? "This public reply asks the customer for personal data." :
            "This public reply contains personal data (" + res.contains_sensitive.join(", ") + ").";
          guardText.textContent = what + " " + (res.advice || "Ask them to send it by DM instead.");
        } else { override.checked = false; }
        guard.classList.toggle("show", flagged);
      });
    }
    text.addEventListener("input", function () {
      updateCounter();
      lastTyped = Date.now();
      preview.classList.remove("show");
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
    updateCounter();

    saved.addEventListener("change", function () {
      if (!saved.value) { return; }
      fetch("/c/" + cid + "/saved-reply/" + saved.value, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (res) {
          text.value = res.text || "";
          preview.textContent = "Preview: " + text.value;
          preview.classList.add("show");
          updateCounter();
          check();
          text.focus();
          saved.value = "";
        });
    });

    function showError(msg) {
      guardText.textContent = msg;
      guard.classList.add("show");
    }
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-mode") === "native") {
        // a plain form post: the server keeps the draft (guard included) and the page shows the link to X
        if (!text.value.trim()) { ev.preventDefault(); text.focus(); }
        return;
      }
      ev.preventDefault();
      if (!text.value.trim()) { text.focus(); return; }
      if (flagged && !override.checked) {
        guard.classList.add("show");
        override.focus();
        return;
      }
      if (othersTypedAt && Date.now() - othersTypedAt < 15000 &&
          !window.confirm("A teammate was typing in this conversation a moment ago. Send anyway?")) {
        return;
      }
      var btn = document.getElementById("send");
      btn.disabled = true;
      postJSON("/api/v1/conversations/" + cid + "/replies",
        { text: text.value, override_guard: override.checked, idempotency_key: idem.value })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
        .then(function (res) {
          btn.disabled = false;
          if (res.ok) { window.location.href = "/c/" + cid + "?notice=Reply+queued."; return; }
          if (res.body && res.body.reason === "guard_flagged") { flagged = true; }
          showError((res.body && res.body.detail) || "Could not queue the reply.");
        })
        .catch(function () { btn.disabled = false; showError("Network error: the reply was not sent. Try again."); });
    });

    function heartbeat() {
      var typing = Date.now() - lastTyped < 5000;
      postJSON("/c/" + cid + "/presence", { typing: typing }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (res) {
          if (!res) { return; }
          var names = res.others.map(function (p) { return p.username + (p.typing ? " (typing…)" : ""); });
          var anyTyping = res.others.some(function (p) { return p.typing; });
          if (anyTyping) { othersTypedAt = Date.now(); }
          presenceEl.textContent = names.length ? "Also here: " + names.join(", ") : "";
          presenceEl.classList.toggle("typing", anyTyping);
          var reload = false;
          (res.outbox || []).forEach(function (o) {
            var el = document.querySelector('[data-status-for="' + o.id + '"]');
            if (!el) { reload = true; return; }
            if (!el.classList.contains(o.status)) { reload = true; }
          });
          var known = parseInt(body.getAttribute("data-thread-len"), 10);
          if (typeof res.thread_len === "number" && res.thread_len !== known) {
            reload = true;
            if (text.value.trim()) {
              presenceEl.textContent = (presenceEl.textContent ? presenceEl.textContent + " · " : "") +
                "New activity in this conversation: send or clear your draft to see it.";
            }
          }
          if (reload && !text.value.trim()) { window.location.reload(); }
        });
    }
    heartbeat();
    setInterval(heartbeat, 3000);
    window.addEventListener("pagehide", function () {
      if (navigator.sendBeacon) {
        var blob = new Blob([JSON.stringify({ leave: true })], { type: "application/json" });
        fetch("/c/" + cid + "/presence", { method: "POST", keepalive: true, credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: blob });
      }
    });

    handlers.r = function () { text.focus(); };
    handlers.a = function () { document.getElementById("assign-me-form").submit(); };
    handlers.e = function () { var f = document.getElementById("resolve-form"); if (f) { f.submit(); } };
  }

  if (page === "inbox") { initInbox(); }
  if (page === "conversation") { initConversation(); }
})();
