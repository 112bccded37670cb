// Hookline dashboard: small enhancements; every page works without them.
// Copy buttons, and one confirmation before destructive actions
// (forms with data-confirm). Loaded as a file: the Content-Security-Policy
// allows no inline script.
document.documentElement.classList.add("js");
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b || !navigator.clipboard) return;
  navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
    var was = b.textContent;
    b.textContent = "Copied";
    setTimeout(function () { b.textContent = was; }, 1500);
  });
});
document.addEventListener("submit", function (e) {
  var f = e.target.closest("form[data-confirm]");
  if (f && !window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
});

// Live lists: a tbody with data-live="URL" gets rows over Server-Sent
// Events (messages "row" whose data is a rendered <tr>), newest first,
// keeping the newest data-keep rows. A button with data-pause="ID" holds
// new rows while pressed; data-status="ID" names where the list says how
// it is doing. Without JavaScript the page says where to read instead.
document.querySelectorAll("tbody[data-live]").forEach(function (body) {
  var keep = parseInt(body.getAttribute("data-keep"), 10) || 200;
  var status = document.getElementById(body.getAttribute("data-status"));
  var pause = document.querySelector('[data-pause="' + body.id + '"]');
  var held = [], shown = 0, dropped = 0, paused = false, state = "Connecting…";
  function say() {
    if (!status) return;
    var s = state;
    if (shown) s += " · " + shown + " received";
    if (paused) s += " · paused, " + held.length + " waiting";
    if (dropped) s += " · " + dropped + " skipped (too many at once)";
    status.textContent = s;
  }
  function add(html) {
    var empty = body.querySelector(".live-empty");
    if (empty) empty.remove();
    body.insertAdjacentHTML("afterbegin", html);
    while (body.rows.length > keep) body.deleteRow(-1);
  }
  var src = new EventSource(body.getAttribute("data-live"));
  src.addEventListener("open", function () { state = "Live"; say(); });
  src.addEventListener("error", function () {
    state = src.readyState === EventSource.CLOSED ? "Disconnected: reload the page" : "Reconnecting…";
    say();
  });
  src.addEventListener("row", function (e) {
    shown++;
    if (paused) {
      held.push(e.data);
      if (held.length > keep) held.shift();
    } else {
      add(e.data);
    }
    say();
  });
  src.addEventListener("dropped", function (e) {
    try { dropped += JSON.parse(e.data).count || 0; } catch (err) { /* not ours */ }
    say();
  });
  if (pause) {
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.setAttribute("aria-pressed", String(paused));
      pause.textContent = paused ? "Resume" : "Pause";
      if (!paused) { held.forEach(add); held = []; }
      say();
    });
  }
  say();
});
