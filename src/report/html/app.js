"use strict";
(function () {
  // Copy buttons: the clipboard API where allowed, a selection otherwise (file://).
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button.copy") : null;
    if (!b) return;
    var text = b.getAttribute("data-copy") || "";
    var done = function () { b.classList.add("copied"); b.textContent = "copied"; setTimeout(function () { b.classList.remove("copied"); b.textContent = "copy"; }, 1200); };
    var fallback = function () {
      var t = document.createElement("textarea");
      t.value = text; t.style.position = "fixed"; t.style.opacity = "0";
      document.body.appendChild(t); t.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
      document.body.removeChild(t);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });

  var el = document.getElementById("flow-data");
  if (!el) return;
  var D = JSON.parse(el.textContent);
  var F = D.flows;
  // Row fields (see timeline.rs).
  var ID = 0, START = 1, DUR = 2, STATE = 3, CIP = 4, CPORT = 5, SERVER = 6, TARGET = 7, STATUS = 8, TLS = 9, OUT = 10, FIND = 11;
  var css = getComputedStyle(document.documentElement);
  var COLORS = [css.getPropertyValue("--ok").trim() || "#2e9d4f", css.getPropertyValue("--err").trim() || "#d32f2f",
    css.getPropertyValue("--warn").trim() || "#e08e00", css.getPropertyValue("--grey").trim() || "#9aa0a6"];
  var OUTCOME = ["ok", "error", "warning", "incomplete"];
  var span = Math.max(D.span_ms, 0.001);

  function fmtMs(ms) {
    if (ms < 1) return (ms * 1000).toFixed(0) + " µs";
    if (ms < 1000) return ms.toFixed(1) + " ms";
    return (ms / 1000).toFixed(2) + " s";
  }
  function text(s) { return document.createTextNode(s); }

  // ---- timeline: a histogram of connection starts per outcome, then a waterfall
  // (one bar per connection) drawn only for the rows in view.
  var hist = document.getElementById("histogram");
  var wf = document.getElementById("waterfall");
  var inner = document.getElementById("waterfall-inner");
  var wc = document.getElementById("waterfall-canvas");
  var tip = document.getElementById("tooltip");
  var ROW = F.length > 2000 ? 4 : (F.length > 200 ? 8 : 14);
  var VIEW = 320;
  inner.style.height = Math.max(F.length * ROW, VIEW) + "px";
  wf.style.height = Math.min(Math.max(F.length * ROW, 40), VIEW) + 2 + "px";
  var highlighted = -1;

  function scaleCanvas(c, h) {
    var dpr = window.devicePixelRatio || 1;
    var w = c.clientWidth || 800;
    c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
    c.style.height = h + "px";
    var g = c.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g: g, w: w, h: h };
  }

  function drawHistogram() {
    var s = scaleCanvas(hist, 80), g = s.g;
    var n = Math.max(1, Math.min(240, Math.floor(s.w / 4)));
    var counts = [];
    for (var i = 0; i < n; i++) counts.push([0, 0, 0, 0]);
    for (var k = 0; k < F.length; k++) {
      var b = Math.min(n - 1, Math.floor(F[k][START] / span * n));
      counts[b][F[k][OUT]]++;
    }
    var max = 1;
    counts.forEach(function (c) { max = Math.max(max, c[0] + c[1] + c[2] + c[3]); });
    var bw = s.w / n;
    g.clearRect(0, 0, s.w, s.h);
    for (var j = 0; j < n; j++) {
      var y = s.h - 14;
      for (var o = 0; o < 4; o++) {
        var hgt = counts[j][o] / max * (s.h - 18);
        if (hgt <= 0) continue;
        g.fillStyle = COLORS[o];
        g.fillRect(j * bw, y - hgt, Math.max(1, bw - 1), hgt);
        y -= hgt;
      }
    }
    g.fillStyle = "#5f6b73"; g.font = "11px system-ui,sans-serif";
    g.fillText("0", 2, s.h - 2);
    var endLabel = fmtMs(span);
    g.fillText(endLabel, s.w - g.measureText(endLabel).width - 2, s.h - 2);
    g.fillText("connections started per " + fmtMs(span / n) + " (max " + max + ")", 40, s.h - 2);
  }

  function drawWaterfall() {
    var h = Math.min(VIEW, Math.max(F.length * ROW, 40));
    var s = scaleCanvas(wc, h), g = s.g;
    var top = wf.scrollTop;
    var first = Math.floor(top / ROW), last = Math.min(F.length, Math.ceil((top + h) / ROW) + 1);
    g.clearRect(0, 0, s.w, s.h);
    for (var i = first; i < last; i++) {
      var r = F[i];
      var x = r[START] / span * s.w, w = Math.max(2, r[DUR] / span * s.w);
      var y = i * ROW - top;
      if (i === highlighted) { g.fillStyle = "#fff3c4"; g.fillRect(0, y, s.w, ROW); }
      g.fillStyle = COLORS[r[OUT]];
      g.fillRect(x, y + (ROW > 6 ? 2 : 0), w, ROW > 6 ? ROW - 4 : Math.max(1, ROW - 1));
      if (ROW >= 14) {
        g.fillStyle = "#1d2327"; g.font = "11px system-ui,sans-serif";
        var label = "#" + r[ID] + " " + (D.targets[r[TARGET]] || D.servers[r[SERVER]]);
        var lw = g.measureText(label).width, lx = x + w + 4;
        if (lx + lw > s.w) lx = x - lw - 4;
        if (lx < 2) { lx = Math.max(x, 0) + 4; g.fillStyle = "#fff"; } // no room beside: inside the bar
        g.fillText(label, lx, y + ROW - 3);
      }
    }
  }

  function describe(r) {
    var parts = ["flow #" + r[ID], D.servers[r[SERVER]]];
    if (D.targets[r[TARGET]]) parts.push(D.targets[r[TARGET]]);
    parts.push(D.states[r[STATE]]);
    if (r[STATUS]) parts.push("HTTP " + r[STATUS]);
    if (D.tls[r[TLS]]) parts.push("TLS " + D.tls[r[TLS]].replace(/_/g, " "));
    parts.push("at " + fmtMs(r[START]) + ", lasts " + fmtMs(r[DUR]));
    if (r[FIND].length) parts.push(r[FIND].map(function (k) { return D.findings[k][0]; }).join(", "));
    return parts.join(" · ");
  }

  wf.addEventListener("scroll", function () { window.requestAnimationFrame(drawWaterfall); }, { passive: true });
  wc.addEventListener("mousemove", function (ev) {
    var rect = wc.getBoundingClientRect();
    var i = Math.floor((ev.clientY - rect.top + wf.scrollTop) / ROW);
    tip.textContent = (i >= 0 && i < F.length) ? describe(F[i]) + " (click: show in the table)" : "";
  });
  wc.addEventListener("click", function (ev) {
    var rect = wc.getBoundingClientRect();
    var i = Math.floor((ev.clientY - rect.top + wf.scrollTop) / ROW);
    if (i < 0 || i >= F.length) return;
    highlighted = i; drawWaterfall();
    showFlow(F[i][ID]);
  });

  // ---- connections table: filtered, a page at a time.
  var PAGE = 100;
  var tbody = document.querySelector("#conn-table tbody");
  var fState = document.getElementById("f-state"), fServer = document.getElementById("f-server"),
    fTarget = document.getElementById("f-target"), fStatus = document.getElementById("f-status"),
    fFinding = document.getElementById("f-finding");
  var count = document.getElementById("conn-count"), info = document.getElementById("p-info");
  var rows = F, page = 0, focus = -1;

  function option(sel, value, label) {
    var o = document.createElement("option"); o.value = value; o.textContent = label; sel.appendChild(o);
  }
  D.states.forEach(function (s, i) { option(fState, String(i), s); });
  var statuses = {};
  F.forEach(function (r) { statuses[r[STATUS]] = (statuses[r[STATUS]] || 0) + 1; });
  Object.keys(statuses).map(Number).sort(function (a, b) { return a - b; }).forEach(function (s) {
    option(fStatus, String(s), (s === 0 ? "none" : String(s)) + " (" + statuses[s] + ")");
  });
  D.findings.forEach(function (f, i) { option(fFinding, String(i), f[0] + " (" + f[1] + ")"); });

  function apply() {
    var st = fState.value, sv = fServer.value.trim().toLowerCase(), tg = fTarget.value.trim().toLowerCase(),
      ss = fStatus.value, fi = fFinding.value;
    var srvOk = null, tgOk = null;
    if (sv) srvOk = D.servers.map(function (s) { return s.toLowerCase().indexOf(sv) >= 0; });
    if (tg) tgOk = D.targets.map(function (s) { return s.toLowerCase().indexOf(tg) >= 0; });
    var fn = fi === "" ? -1 : (fi === "none" ? -2 : Number(fi));
    rows = F.filter(function (r) {
      if (st !== "" && r[STATE] !== Number(st)) return false;
      if (srvOk && !srvOk[r[SERVER]]) return false;
      if (tgOk && !tgOk[r[TARGET]]) return false;
      if (ss !== "" && r[STATUS] !== Number(ss)) return false;
      if (fn === -2 && r[FIND].length) return false;
      if (fn >= 0 && r[FIND].indexOf(fn) < 0) return false;
      return true;
    });
    page = 0; render();
  }

  function cell(tr, value, cls) {
    var td = document.createElement("td"); if (cls) td.className = cls; td.appendChild(text(value)); tr.appendChild(td);
  }

  function render() {
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    var frag = document.createDocumentFragment();
    rows.slice(page * PAGE, page * PAGE + PAGE).forEach(function (r) {
      var tr = document.createElement("tr");
      tr.className = OUTCOME[r[OUT]] + (r[ID] === focus ? " hl" : "");
      tr.setAttribute("data-flow", r[ID]);
      cell(tr, "#" + r[ID]); cell(tr, fmtMs(r[START]), "num"); cell(tr, fmtMs(r[DUR]), "num");
      var ip = D.clients[r[CIP]];
      cell(tr, (ip.indexOf(":") >= 0 ? "[" + ip + "]" : ip) + ":" + r[CPORT]);
      cell(tr, D.servers[r[SERVER]]); cell(tr, D.targets[r[TARGET]], "t");
      cell(tr, D.states[r[STATE]]); cell(tr, r[STATUS] ? String(r[STATUS]) : "");
      cell(tr, D.tls[r[TLS]].replace(/_/g, " "));
      cell(tr, r[FIND].map(function (k) { return D.findings[k][0]; }).join(", "), "t");
      frag.appendChild(tr);
    });
    tbody.textContent = "";
    tbody.appendChild(frag);
    count.textContent = rows.length + " of " + F.length + " connection(s)";
    info.textContent = "page " + (page + 1) + " of " + pages;
    document.getElementById("p-prev").disabled = page === 0;
    document.getElementById("p-next").disabled = page >= pages - 1;
  }

  function showFlow(id) {
    var i = rows.findIndex(function (r) { return r[ID] === id; });
    if (i < 0) { rows = F; i = F.findIndex(function (r) { return r[ID] === id; }); }
    focus = id; page = Math.floor(i / PAGE); render();
    var tr = tbody.querySelector('tr[data-flow="' + id + '"]');
    if (tr) tr.scrollIntoView({ block: "center" });
  }

  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(apply, 150); }
  [fState, fStatus, fFinding].forEach(function (s) { s.addEventListener("change", apply); });
  [fServer, fTarget].forEach(function (s) { s.addEventListener("input", later); });
  document.getElementById("f-clear").addEventListener("click", function () {
    fState.value = ""; fStatus.value = ""; fFinding.value = ""; fServer.value = ""; fTarget.value = ""; apply();
  });
  document.getElementById("p-prev").addEventListener("click", function () { page--; render(); });
  document.getElementById("p-next").addEventListener("click", function () { page++; render(); });

  function drawAll() { drawHistogram(); drawWaterfall(); }
  window.addEventListener("resize", function () { window.requestAnimationFrame(drawAll); });
  drawAll();
  render();
  document.body.setAttribute("data-ready", "1");
})();
