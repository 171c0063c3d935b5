// Drives cairn's web UI in Debian's Chromium through playwright-core,
// against the server internal/webui/webui_test.go starts: BASE_URL is the
// listener, SHOTS the directory the screenshots go to. Each check throws
// with what it saw; the process exits 1 on the first failure.
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const shots = process.env.SHOTS;
if (!base || !shots) throw new Error("BASE_URL and SHOTS are required");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const failures = [];
// expected404 is set while a step makes the page ask for what is not there.
let expected404 = false;
const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
page.on("console", (m) => {
  if (m.type() !== "error") return;
  if (expected404 && m.text().includes("404")) return;
  failures.push(`console error: ${m.text()} (${m.location().url})`);
});

async function api(method, path, body) {
  const resp = await fetch(base + path, {
    method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${await resp.text()}`);
  return resp.status === 204 ? null : resp.json();
}

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    await page.screenshot({ path: `${shots}/failed-${name.replace(/\W+/g, "-")}.png`, fullPage: true }).catch(() => {});
    await browser.close();
    process.exit(1);
  }
}

const timeout = 20000;

await step("the list loads", async () => {
  await api("POST", "/v1/workflows", { workflowType: "Greeter", workflowId: "ui-done", input: "done" });
  await api("POST", "/v1/workflows/ui-done/signal", { name: "greeting", payload: "hello" });
  await page.goto(base + "/");
  await page.getByRole("table", { name: "Workflows" }).getByRole("link", { name: "ui-done" }).waitFor({ timeout });
  await page.screenshot({ path: `${shots}/list.png`, fullPage: true });
});

await step("a start shows in the list without a reload", async () => {
  await api("POST", "/v1/workflows", { workflowType: "Greeter", workflowId: "ui-live", input: "eve" });
  await page.getByRole("link", { name: "ui-live" }).waitFor({ timeout });
});

await step("the filters filter", async () => {
  await page.getByLabel("Status").selectOption("completed");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForFunction(() => location.hash.includes("status=completed"));
  await page.locator('tr[data-id="ui-done"]').waitFor({ timeout });
  await page.locator('tr[data-id="ui-live"]').waitFor({ state: "detached", timeout });
});

await step("an instance page shows its events, and follows the run live", async () => {
  await page.goto(base + "/#/workflows/ui-live");
  await page.locator('tr[data-type="WorkflowStarted"]').waitFor({ timeout });
  const status = page.getByTestId("status");
  if ((await status.textContent()).trim() !== "running") throw new Error(`status ${await status.textContent()}`);
  await page.screenshot({ path: `${shots}/workflow-running.png`, fullPage: true });
  // The signal is sent through the UI's own form.
  await page.getByLabel("Signal name").fill("greeting");
  await page.getByLabel("Payload").fill('"hi"');
  await page.getByRole("button", { name: "Send signal" }).click();
  await page.locator('tr[data-type="WorkflowCompleted"]').waitFor({ timeout });
  await page.getByTestId("status").getByText("completed").waitFor({ timeout });
  await page.getByText('"hi, eve"').first().waitFor({ timeout });
  // A closed run offers no actions, and shows no stray text.
  await page.getByRole("button", { name: "Terminate" }).waitFor({ state: "hidden", timeout });
  const text = await page.locator("main").innerText();
  if (/undefined|\bfalse\b|\[object/.test(text)) throw new Error(`stray text on the page: ${text.slice(0, 300)}`);
  await page.screenshot({ path: `${shots}/workflow-completed.png`, fullPage: true });
});

await step("an event expands to its payload", async () => {
  const row = page.locator('tr[data-type="SignalReceived"]');
  await row.locator("summary").click();
  await row.getByText('"greeting"').waitFor({ timeout });
});

await step("pause and resume, confirmed, show in history", async () => {
  await api("POST", "/v1/workflows", { workflowType: "Greeter", workflowId: "ui-stop", input: "x" });
  await page.goto(base + "/#/workflows/ui-stop");
  await page.locator('tr[data-type="WorkflowStarted"]').waitFor({ timeout });
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator('tr[data-type="WorkflowPaused"]').waitFor({ timeout });
  await page.getByRole("button", { name: "Resume" }).waitFor({ timeout });
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator('tr[data-type="WorkflowResumed"]').waitFor({ timeout });
});

await step("a dismissed cancel does nothing; terminate, confirmed, shows in history", async () => {
  const sent = [];
  const record = (req) => { if (req.method() === "POST") sent.push(new URL(req.url()).pathname); };
  page.on("request", record);
  page.once("dialog", (d) => d.dismiss());
  await page.getByRole("button", { name: "Cancel" }).click();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Terminate" }).click();
  await page.locator('tr[data-type="WorkflowTerminated"]').waitFor({ timeout });
  await page.getByTestId("status").getByText("terminated").waitFor({ timeout });
  page.off("request", record);
  if (sent.some((p) => p.endsWith("/cancel")) || !sent.some((p) => p.endsWith("/terminate"))) {
    throw new Error(`requests sent: ${sent.join(", ")}`);
  }
});

await step("reset to a chosen event starts a new run", async () => {
  await page.goto(base + "/#/workflows/ui-live");
  await page.locator('tr[data-type="WorkflowCompleted"]').waitFor({ timeout });
  const before = (await page.locator("dd").nth(3).textContent()).trim();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Reset to event 1" }).click();
  await page.getByTestId("status").getByText("running").waitFor({ timeout });
  const after = (await page.locator("dd").nth(3).textContent()).trim();
  if (after === before) throw new Error(`still run ${before}`);
  await page.getByRole("button", { name: "Terminate" }).waitFor({ timeout });
});

await step("an API error is shown readably", async () => {
  expected404 = true;
  await page.goto(base + "/#/workflows/no-such-workflow");
  const alert = page.getByRole("alert");
  await alert.getByText("workflow not found").waitFor({ timeout });
  await page.screenshot({ path: `${shots}/error.png`, fullPage: true });
  expected404 = false;
});

await step("task queues and schedules pages", async () => {
  await page.goto(base + "/#/task-queues");
  await page.getByRole("table", { name: "Task queues" }).getByText("Greeter").waitFor({ timeout });
  await page.screenshot({ path: `${shots}/task-queues.png`, fullPage: true });
  await api("POST", "/v1/schedules", { id: "nightly", spec: "0 0 2 * * *", workflowType: "Greeter", input: "n" });
  await page.goto(base + "/#/schedules");
  await page.getByRole("table", { name: "Schedules" }).getByText("nightly").waitFor({ timeout });
});

await step("keyboard: the navigation and the actions are reachable", async () => {
  await page.goto(base + "/");
  await page.keyboard.press("Tab"); // the skip link
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
  if (!focused || !focused.includes("cairn")) throw new Error(`focus on ${focused}`);
});

await browser.close();
if (failures.length) {
  console.log(`FAIL errors in the page:\n${failures.join("\n")}`);
  process.exit(1);
}
console.log("all browser checks passed");
