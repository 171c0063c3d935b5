// A cairn activity worker in Node.js: serves the Ship activity of the Go
// demo workflow (examples/order) with nothing but the `nats` npm package,
// following the activity wire protocol, version 1 (docs/protocol.md).
//
//   npm ci && node worker.js
//
// Environment: NATS_URL (default nats://127.0.0.1:4222), CAIRN_NAMESPACE
// (default "default"), CAIRN_QUEUE (default "default"), CAIRN_CONCURRENCY
// (default 8). Run it next to `cairn dev --no-demo`-style workers that do not
// serve Ship themselves, or alongside them: all workers of a type share one
// consumer and compete for tasks.
import { AckPolicy, DeliverPolicy, connect, headers } from "nats";

const NS = process.env.CAIRN_NAMESPACE || "default";
const QUEUE = process.env.CAIRN_QUEUE || "default";
const CONCURRENCY = Number(process.env.CAIRN_CONCURRENCY || 8);
const TYPE = "Ship"; // needs no escaping (protocol section 2)
const STREAM = `cairn-${NS}-tasks`;
const DURABLE = `activity-${QUEUE}-${TYPE}`;
const ACK_WAIT_MS = 60_000;

// The activity itself, as examples/order.Ship: idempotent.
async function ship(order) {
  if (!order || !order.item) {
    const e = new Error("nothing to ship");
    e.name = "cairn.Error";
    throw e;
  }
  return `trk_${order.id}`;
}

// "30s", "1m30s", "250ms" -> milliseconds.
function goDurationMs(s) {
  if (!s) return 0;
  const units = { h: 3600e3, m: 60e3, s: 1e3, ms: 1, us: 1e-3, "µs": 1e-3, ns: 1e-6 };
  let ms = 0;
  for (const [, n, u] of s.matchAll(/([\d.]+)(ms|us|µs|ns|h|m|s)/g)) ms += parseFloat(n) * units[u];
  return ms;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function handle(js, m) {
  const h = m.headers;
  if (h?.has("Nats-Marker-Reason")) return m.ack(); // a delete marker, not a task
  if (h?.get("Cairn-Protocol") !== "1") return m.nak(30_000); // for a newer worker
  const run = h.get("Cairn-Run"), act = h.get("Cairn-Activity-Id"), attempt = h.get("Cairn-Attempt");
  const reply = h.get("Cairn-Reply"), scheduled = Date.parse(h.get("Cairn-Scheduled"));
  const token = h.get("Cairn-Attempt-Token"); // copied, unchanged, to the result and the attempt timeout
  if (!run || !act || !/^[1-9]\d*$/.test(attempt) || !reply || isNaN(scheduled) || h.get("Cairn-Activity-Type") !== TYPE) {
    return m.term("malformed task");
  }
  let input;
  try {
    input = m.data.length ? JSON.parse(new TextDecoder().decode(m.data)) : null;
  } catch {
    return m.term("body is not JSON");
  }

  const now = Date.now();
  let deadline = h.has("Cairn-Deadline") ? Date.parse(h.get("Cairn-Deadline")) : Infinity;
  const s2c = goDurationMs(h.get("Cairn-Start-To-Close"));
  if (s2c) deadline = Math.min(deadline, now + s2c);
  const s2s = goDurationMs(h.get("Cairn-Schedule-To-Start"));
  const attemptTimer = h.get("Cairn-Attempt-Timer"), hbTimeout = goDurationMs(h.get("Cairn-Heartbeat-Timeout"));
  let running = false; // while true, heartbeats move the attempt timer

  // The attempt timer (protocol section 7.1): a schedule that times the
  // attempt out in the engine if this process dies; due at the next
  // heartbeat deadline or at the start-to-close deadline, whichever is first.
  async function arm() {
    let [due, kind] = [Infinity, ""];
    if (hbTimeout) [due, kind] = [Date.now() + hbTimeout, "heartbeat"];
    if (s2c && now + s2c <= due) [due, kind] = [now + s2c, "start-to-close"];
    const th = headers();
    th.set("Nats-Schedule", "@at " + new Date(due).toISOString());
    th.set("Nats-Schedule-Target", reply);
    th.set("Cairn-Protocol", "1");
    th.set("Cairn-Kind", "activity.attempt.timeout");
    th.set("Cairn-Run", run);
    th.set("Cairn-Activity-Id", act);
    th.set("Cairn-Attempt", attempt);
    th.set("Cairn-Deliveries", String(m.info.redeliveryCount));
    th.set("Cairn-Timeout-Kind", kind);
    if (token) th.set("Cairn-Attempt-Token", token); // the engine takes an attempt's outcome only with its token
    await js.publish(attemptTimer, new Uint8Array(0), { headers: th });
  }

  // This process is alive: +WPI, and move the attempt timer.
  const hb = setInterval(() => {
    m.working();
    if (running && attemptTimer && hbTimeout) arm().catch((e) => console.error("moving the attempt timer failed:", e.message));
  }, hbTimeout ? Math.min(ACK_WAIT_MS / 3, 0.8 * hbTimeout) : ACK_WAIT_MS / 3);
  try {
    let status, body;
    if (s2s && m.info.redeliveryCount === 1 && now > scheduled + s2s) {
      [status, body] = ["failed", { type: "cairn.Timeout", message: "waited too long in the queue",
        nonRetryable: true, details: { kind: "schedule-to-start" } }];
    } else if (now >= deadline) {
      [status, body] = ["failed", { type: "cairn.Timeout", message: "picked up after the deadline",
        nonRetryable: true, details: { kind: "schedule-to-close" } }];
    } else {
      if (attemptTimer) await arm(); // before any activity code runs
      running = true;
      let timer;
      const timeout = new Promise((_, rej) => {
        if (deadline < Infinity) timer = setTimeout(() => rej(Object.assign(new Error("attempt timed out"), { timeout: true })), deadline - now);
      });
      try {
        const out = await Promise.race([ship(input), timeout]);
        [status, body] = ["completed", out ?? null];
      } catch (e) {
        [status, body] = e.timeout
          ? ["failed", { type: "cairn.Timeout", message: "attempt timed out", details: { kind: "start-to-close" } }]
          : ["failed", { type: e.name && e.name !== "Error" ? e.name : "cairn.Panic", message: String(e.message ?? e), stack: e.stack }];
      } finally {
        clearTimeout(timer);
        running = false;
      }
    }

    const rh = headers();
    rh.set("Cairn-Protocol", "1");
    rh.set("Cairn-Kind", "activity.result");
    rh.set("Cairn-Run", run);
    rh.set("Cairn-Activity-Id", act);
    rh.set("Cairn-Attempt", attempt);
    rh.set("Cairn-Status", status);
    rh.set("Cairn-Deliveries", String(m.info.redeliveryCount));
    if (token) rh.set("Cairn-Attempt-Token", token);
    if (h.has("traceparent")) rh.set("traceparent", h.get("traceparent"));
    if (attemptTimer) { // the result purges the attempt timer as it is stored
      rh.set("Nats-Scheduler", attemptTimer);
      rh.set("Nats-Schedule-Next", "purge");
    }
    const payload = new TextEncoder().encode(JSON.stringify(body));
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) { // until JetStream acknowledges
      try {
        await js.publish(reply, payload, { headers: rh, msgID: `${run}/${act}/${attempt}/result${token ? "/" + token : ""}` });
        break;
      } catch (e) {
        if (e.api_error?.err_code === 10212 && rh.has("Nats-Scheduler")) {
          // The engine closed the attempt meanwhile: store the result
          // without the purge (it will be ignored).
          rh.delete("Nats-Scheduler");
          rh.delete("Nats-Schedule-Next");
          continue;
        }
        console.error("publishing the result failed; retrying:", e.message);
        await sleep(delay);
      }
    }
    await m.ackAck(); // only after the result is stored
    console.log(`${TYPE} ${h.get("Cairn-Workflow-Id")}/${act} attempt ${attempt}: ${status}${attemptTimer ? " (attempt timer armed)" : ""}`);
  } finally {
    clearInterval(hb);
  }
}

const nc = await connect({ servers: process.env.NATS_URL || "nats://127.0.0.1:4222", maxReconnectAttempts: -1, name: "cairn-node-worker" });
const jsm = await nc.jetstreamManager();
const js = nc.jetstream();
const config = {
  durable_name: DURABLE, filter_subject: `cairn.${NS}.task.${QUEUE}.${TYPE}`,
  deliver_policy: DeliverPolicy.All, ack_policy: AckPolicy.Explicit,
  ack_wait: ACK_WAIT_MS * 1_000_000, max_deliver: -1, max_ack_pending: 1000, // nanoseconds
};
// Create or update (protocol section 3): the Go workers use the same config.
try {
  await jsm.consumers.add(STREAM, config);
} catch {
  await jsm.consumers.update(STREAM, DURABLE, config);
}
const consumer = await js.consumers.get(STREAM, DURABLE);
console.log(`serving ${TYPE} on ${STREAM}/${DURABLE}`);

const stop = async () => {
  await nc.drain();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

// Bounded concurrency: at most CONCURRENCY tasks buffered or running.
let running = 0;
const messages = await consumer.consume({ max_messages: CONCURRENCY });
for await (const m of messages) {
  running++;
  handle(js, m)
    .catch((e) => console.error("task failed", e))
    .finally(() => running--);
}
