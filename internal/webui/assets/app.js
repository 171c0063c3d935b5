// cairn's web UI: plain modules over the management API (/v1). Every text
// from the server goes in through textContent, never as HTML.

const main = document.getElementById("main");
const errorBox = document.getElementById("error");

// cleanup closes what the current page opened (event streams, timers).
let cleanup = [];

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "style") Object.assign(el.style, v); // CSSOM: the page's CSP allows no style attributes
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// present drops the parts a page left out (false, null, undefined).
function present(...parts) {
  return parts.filter((p) => p !== undefined && p !== null && p !== false);
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

// api calls the management API; a problem document becomes an Error with
// its title and detail.
async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!resp.ok) {
    const title = (data && data.title) || resp.statusText;
    const detail = data && data.detail ? `: ${data.detail}` : "";
    throw new Error(`${title}${detail}`);
  }
  return data;
}

// stream reads a Server-Sent Events response, passing each event
// ({event, id, data}) to onEvent, until the server ends it or signal
// aborts. (fetch rather than EventSource: every event type reaches one
// handler, and a problem document before the stream is readable.)
async function stream(url, onEvent, signal) {
  const resp = await fetch(url, { signal, headers: { Accept: "text/event-stream" } });
  if (!resp.ok) {
    let data = {};
    try { data = await resp.json(); } catch { /* not a problem document */ }
    throw new Error(`${data.title || resp.statusText}${data.detail ? ": " + data.detail : ""}`);
  }
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = { event: "message", id: "", data: "" };
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const c = line.indexOf(":");
        const key = c < 0 ? line : line.slice(0, c);
        let v = c < 0 ? "" : line.slice(c + 1);
        if (v.startsWith(" ")) v = v.slice(1);
        if (key === "event") ev.event = v;
        else if (key === "id") ev.id = v;
        else if (key === "data") ev.data += (ev.data ? "\n" : "") + v;
      }
      onEvent(ev);
    }
  }
}

// follow keeps a stream open for the page: it reconnects after a drop,
// resuming after the last id seen when resume is set, until the page goes.
function follow(url, onEvent, resume) {
  const ctl = new AbortController();
  cleanup.push(() => ctl.abort());
  (async () => {
    let last = "";
    while (!ctl.signal.aborted) {
      let ended = false;
      try {
        const u = resume && last ? `${url}${url.includes("?") ? "&" : "?"}after=${encodeURIComponent(last)}` : url;
        await stream(u, (ev) => {
          if (ev.id) last = ev.id;
          if (ev.event === "end") ended = true;
          onEvent(ev);
        }, ctl.signal);
      } catch (e) {
        if (ctl.signal.aborted) return;
        showError(e.message);
      }
      if (ended || ctl.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
}

function time(t) {
  if (!t || t.startsWith("0001-")) return "–";
  return new Date(t).toLocaleString();
}

// costLine says what a run consumed (durations are in nanoseconds) and
// what Step Functions and Lambda durable functions would charge for it.
function costLine(c) {
  const ms = (ns) => `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 0)} ms`;
  const s = (ns) => `${(ns / 1e9).toFixed(1)} s`;
  return `${c.workflowTasks} workflow tasks, ${c.activityAttempts} activity attempts, ${ms(c.activeCompute)} active, ` +
    `${s(c.suspended)} suspended; as Step Functions Standard $${c.stepFunctionsUsd.toFixed(6)}, ` +
    `as Lambda durable functions $${c.lambdaDurableUsd.toFixed(6)}`;
}

function statusCell(status) {
  return h("span", { class: `status status-${status}` }, status || "–");
}

function workflowLink(id) {
  return h("a", { href: `#/workflows/${encodeURIComponent(id)}` }, id);
}

// --- the workflow list -----------------------------------------------------

async function listPage(params) {
  const status = params.get("status") || "";
  const type = params.get("type") || "";
  const token = params.get("page") || "";
  const q = new URLSearchParams();
  if (status) q.set("status", status);
  if (type) q.set("workflowType", type);
  if (token) q.set("pageToken", token);
  q.set("pageSize", "50");

  const statusSelect = h("select", { id: "f-status", name: "status" },
    ["", "running", "completed", "failed", "canceled", "terminated", "timed_out", "continued_as_new"].map((s) =>
      h("option", { value: s, selected: s === status }, s || "any")));
  const typeInput = h("input", { id: "f-type", name: "type", value: type, placeholder: "any" });
  const form = h("form", { class: "filters", "aria-label": "Filters", onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (statusSelect.value) p.set("status", statusSelect.value);
    if (typeInput.value.trim()) p.set("type", typeInput.value.trim());
    location.hash = `#/?${p}`;
  } },
  h("label", { for: "f-status" }, "Status", statusSelect),
  h("label", { for: "f-type" }, "Workflow type", typeInput),
  h("button", { type: "submit" }, "Apply"));

  const tbody = h("tbody");
  const table = h("table", { "aria-label": "Workflows" },
    h("thead", {}, h("tr", {}, ["Workflow ID", "Type", "Status", "Task queue", "Started", "Closed"].map((c) => h("th", { scope: "col" }, c)))),
    tbody);
  const pager = h("div", { class: "pager" });
  main.replaceChildren(h("h1", {}, "Workflows"), form, table, pager);

  async function load() {
    const page = await api(`/v1/workflows?${q}`);
    tbody.replaceChildren(...page.summaries.map((s) => h("tr", { "data-id": s.workflowId },
      h("td", {}, workflowLink(s.workflowId)), h("td", {}, s.workflowType), h("td", {}, statusCell(s.status)),
      h("td", {}, s.taskQueue), h("td", {}, time(s.startTime)), h("td", {}, time(s.closeTime)))));
    if (page.summaries.length === 0) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No workflows.")));
    pager.replaceChildren();
    if (token) pager.append(h("a", { href: "#/?" + withoutPage(params) }, "First page"));
    if (page.nextPageToken) {
      const next = new URLSearchParams(params);
      next.set("page", page.nextPageToken);
      pager.append(h("a", { href: `#/?${next}`, rel: "next" }, "Next page"));
    }
  }
  await load();

  // Live: any change of the list reloads the page, at most twice a second.
  let pending = null;
  follow("/v1/watch/workflows", (ev) => {
    if (ev.event !== "summary" && ev.event !== "deleted") return;
    if (pending) return;
    pending = setTimeout(() => { pending = null; load().catch((e) => showError(e.message)); }, 500);
  }, false);
  cleanup.push(() => clearTimeout(pending));
}

function withoutPage(params) {
  const p = new URLSearchParams(params);
  p.delete("page");
  return p.toString();
}

// --- one workflow ----------------------------------------------------------

async function workflowPage(id) {
  const path = `/v1/workflows/${encodeURIComponent(id)}`;
  const facts = h("dl", { class: "facts" });
  const pendingBox = h("div");
  const timeline = h("div", { class: "timeline", role: "img", "aria-label": "Timeline of activities and timers" });
  const tbody = h("tbody");
  const history = h("table", { "aria-label": "History" },
    h("thead", {}, h("tr", {}, ["#", "Time", "Event", ""].map((c) => h("th", { scope: "col" }, c)))), tbody);
  const title = h("h1", {}, `Workflow ${id}`);
  // resetTo starts a new run from the first events of this one, up to the
  // end of the workflow task holding seq, and shows it.
  async function resetTo(seq) {
    if (!confirm(`Reset workflow ${id} to event ${seq}? The current run, if running, is terminated.`)) return;
    try {
      showError("");
      await api(`${path}/reset`, { method: "POST", body: { eventSeq: seq, reason: "from the web UI" } });
      await route();
    } catch (e) {
      showError(`Reset failed: ${e.message}`);
    }
  }
  const actions = actionsOf(id, path, () => refresh());
  main.replaceChildren(title, facts, actions.el, h("h2", {}, "Pending"), pendingBox,
    h("h2", {}, "Timeline"), timeline, h("h2", {}, "History"), history);

  const events = [];
  async function refresh() {
    const d = await api(path);
    facts.replaceChildren(...present(
      h("dt", {}, "Status"), h("dd", { "data-testid": "status" }, statusCell(d.status)),
      h("dt", {}, "Type"), h("dd", {}, d.workflowType),
      h("dt", {}, "Task queue"), h("dd", {}, d.taskQueue),
      h("dt", {}, "Run"), h("dd", {}, d.run),
      h("dt", {}, "Started"), h("dd", {}, time(d.startTime)),
      h("dt", {}, "Closed"), h("dd", {}, time(d.closeTime)),
      d.result !== undefined && h("dt", {}, "Result"), d.result !== undefined && h("dd", {}, h("pre", {}, JSON.stringify(d.result, null, 2))),
      d.failure && h("dt", {}, "Failure"), d.failure && h("dd", {}, h("pre", {}, JSON.stringify(d.failure, null, 2))),
      d.customStatus !== undefined && h("dt", {}, "Custom status"), d.customStatus !== undefined && h("dd", {}, JSON.stringify(d.customStatus)),
      d.waiting && h("dt", {}, "Waiting"), d.waiting && h("dd", {}, d.waiting),
      d.cost && h("dt", {}, "Cost"), d.cost && h("dd", {}, costLine(d.cost))));
    const items = [];
    for (const a of d.pendingActivities || []) items.push(h("li", {}, `activity ${a.activityType || ""} (id ${a.id}), attempt ${a.attempt || 1}`));
    for (const t of d.pendingTimers || []) items.push(h("li", {}, `timer ${t.id} fires ${time(t.fireAt)}`));
    for (const c of d.pendingChildren || []) items.push(h("li", {}, `child ${c.workflowId || c.id}`));
    for (const c of d.pendingCallbacks || []) items.push(h("li", {}, `callback ${c.name} (id ${c.id})`));
    pendingBox.replaceChildren(items.length ? h("ul", {}, items) : h("p", { class: "muted" }, "Nothing pending."));
    actions.update(d);
  }
  await refresh();

  // The history arrives over the event stream, live until the run closes.
  let pending = null;
  follow(`${path}/events`, (msg) => {
    if (msg.event === "end") {
      refresh().catch((e) => showError(e.message));
      return;
    }
    if (msg.event === "error") {
      showError(JSON.parse(msg.data).detail);
      return;
    }
    const ev = JSON.parse(msg.data);
    events.push(ev);
    tbody.append(h("tr", { "data-type": ev.type },
      h("td", {}, ev.seq), h("td", {}, time(ev.time)),
      h("td", {}, h("details", {}, h("summary", {}, ev.type), h("pre", {}, JSON.stringify(ev.attributes, null, 2)))),
      h("td", {}, h("button", { type: "button", class: "small", "aria-label": `Reset to event ${ev.seq}`, onclick: () => resetTo(ev.seq) }, "Reset here"))));
    drawTimeline(timeline, events);
    if (!pending) pending = setTimeout(() => { pending = null; refresh().catch((e) => showError(e.message)); }, 300);
  }, true);
  cleanup.push(() => clearTimeout(pending));
}

// actionsOf are the controls of a run, each confirmed: signal, cancel,
// terminate and pause or resume while it runs, redrive once it failed.
// done refreshes the page; update shows the ones the run allows.
function actionsOf(id, path, done) {
  const name = h("input", { id: "sig-name", required: true });
  const payload = h("textarea", { id: "sig-payload", rows: 1, placeholder: "JSON, e.g. \"yes\"" });
  const act = (what, fn) => async () => {
    try {
      showError("");
      await fn();
      await done();
    } catch (e) {
      showError(`${what} failed: ${e.message}`);
    }
  };
  const signalForm = h("form", { class: "inline", "aria-label": "Signal", onsubmit: (e) => {
    e.preventDefault();
    act("Signal", async () => {
      let body;
      try { body = payload.value.trim() ? JSON.parse(payload.value) : null; } catch { throw new Error("the payload is not JSON"); }
      await api(`${path}/signal`, { method: "POST", body: { name: name.value, payload: body } });
    })();
  } },
  h("label", { for: "sig-name" }, "Signal name", name),
  h("label", { for: "sig-payload" }, "Payload", payload),
  h("button", { type: "submit" }, "Send signal"));
  const control = (label, verb, cls) => h("button", { type: "button", class: cls, onclick: () => {
    if (!confirm(`${label} workflow ${id}?`)) return;
    act(label, () => api(`${path}/${verb}`, { method: "POST", body: { reason: "from the web UI" } }))();
  } }, label);
  const pause = control("Pause", "pause");
  const resume = control("Resume", "resume");
  const running = h("div", { class: "actions" }, signalForm, pause, resume, control("Cancel", "cancel"), control("Terminate", "terminate", "danger"));
  const redrive = h("button", { type: "button", onclick: () => {
    if (!confirm(`Redrive workflow ${id} from the step that failed?`)) return;
    act("Redrive", async () => {
      await api(`${path}/redrive`, { method: "POST", body: { reason: "from the web UI" } });
      await route();
    })();
  } }, "Redrive");
  const el = h("div", {}, running, h("div", { class: "actions" }, redrive));
  return {
    el,
    update(d) {
      running.hidden = d.status !== "running";
      pause.hidden = !!d.paused;
      resume.hidden = !d.paused;
      redrive.hidden = d.status !== "failed" && d.status !== "timed_out";
    },
  };
}

// drawTimeline draws a lane per activity and timer, from its scheduling to
// its outcome (open: up to now), retries as the attempt count.
function drawTimeline(el, events) {
  if (events.length === 0) return;
  const start = Date.parse(events[0].time);
  const lanes = new Map();
  let end = Date.now();
  for (const ev of events) {
    const t = Date.parse(ev.time);
    const a = ev.attributes || {};
    switch (ev.type) {
      case "ActivityScheduled": lanes.set(`a${a.id}`, { name: `${a.activityType} (${a.id})`, from: t, to: null, kind: "activity", attempts: 1 }); break;
      case "ActivityCompleted": case "ActivityFailed": {
        const l = lanes.get(`a${a.id}`);
        if (l) { l.attempts = Math.max(l.attempts, a.attempt || 1); if (ev.type === "ActivityCompleted" || (a.failure && a.failure.nonRetryable)) { l.to = t; l.failed = ev.type === "ActivityFailed"; } }
        break;
      }
      case "TimerStarted": lanes.set(`t${a.id}`, { name: `timer ${a.name || a.id}`, from: t, to: null, kind: "timer" }); break;
      case "TimerFired": case "TimerCanceled": { const l = lanes.get(`t${a.id}`); if (l) l.to = t; break; }
      case "WorkflowCompleted": case "WorkflowFailed": case "WorkflowCanceled": case "WorkflowTerminated": case "WorkflowTimedOut": case "WorkflowContinuedAsNew":
        end = t;
        for (const l of lanes.values()) if (l.to === null) l.to = t;
        break;
    }
  }
  const span = Math.max(end - start, 1);
  el.replaceChildren(...[...lanes.values()].map((l) => {
    const to = l.to === null ? end : l.to;
    const left = ((l.from - start) / span) * 100;
    const width = Math.max(((to - l.from) / span) * 100, 0.3);
    const label = l.attempts > 1 ? `${l.name}, ${l.attempts} attempts` : l.name;
    return h("div", { class: "lane" }, h("span", { class: "name", title: label }, label),
      h("div", { class: "track" }, h("div", { class: `bar ${l.kind}${l.failed ? " failed" : ""}${l.to === null ? " open" : ""}`,
        style: { left: `${left}%`, width: `${width}%` }, title: `${label}: ${Math.round(to - l.from)} ms` })));
  }));
  if (lanes.size === 0) el.replaceChildren(h("p", { class: "muted" }, "No activities or timers."));
}

// --- task queues and schedules ---------------------------------------------

async function taskQueuesPage() {
  const { taskQueues } = await api("/v1/task-queues");
  main.replaceChildren(h("h1", {}, "Task queues"), h("table", { "aria-label": "Task queues" },
    h("thead", {}, h("tr", {}, ["Queue", "Workflow types", "Activity types", "Workers", "Workflow backlog", "Activity backlog"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, taskQueues.map((q) => h("tr", {},
      h("td", {}, q.name), h("td", {}, (q.workflowTypes || []).join(", ")), h("td", {}, (q.activityTypes || []).join(", ")),
      h("td", {}, (q.workers || []).map((w) => `${w.id} (${w.host})`).join(", ") || "none"),
      h("td", {}, `${q.workflowBacklog} waiting, ${q.workflowInFlight} in progress`),
      h("td", {}, Object.entries(q.activityBacklog || {}).map(([t, n]) => `${t}: ${n}`).join(", ")))))));
}

async function schedulesPage() {
  const { schedules } = await api("/v1/schedules");
  main.replaceChildren(h("h1", {}, "Schedules"), h("table", { "aria-label": "Schedules" },
    h("thead", {}, h("tr", {}, ["Schedule", "Spec", "Workflow", "State", "Next fire"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, schedules.map((s) => h("tr", {},
      h("td", {}, s.id), h("td", {}, s.spec), h("td", {}, s.action && s.action.workflowType),
      h("td", {}, s.paused ? "paused" : "active"), h("td", {}, time(s.state && s.state.nextFire)))))));
}

// --- routing ---------------------------------------------------------------

async function route() {
  for (const f of cleanup) f();
  cleanup = [];
  showError("");
  const hash = location.hash.replace(/^#/, "") || "/";
  const [pathPart, query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  try {
    if (pathPart.startsWith("/workflows/")) await workflowPage(decodeURIComponent(pathPart.slice("/workflows/".length)));
    else if (pathPart === "/task-queues") await taskQueuesPage();
    else if (pathPart === "/schedules") await schedulesPage();
    else await listPage(params);
  } catch (e) {
    showError(e.message);
  }
}

window.addEventListener("hashchange", route);
route();
