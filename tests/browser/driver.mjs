// A headless Chromium for the browser tests, driven over stdin/stdout:
// each line in is a JSON command, each line out its JSON answer.
//   {"op":"open","url":...}            load a page
//   {"op":"eval","expr":...}           evaluate an expression in the page
//   {"op":"wait","expr":...,"ms":N}    wait until the expression is truthy
//   {"op":"fill","selector":...,"value":...} / {"op":"click","selector":...}
//   {"op":"screenshot","path":...}
// First line out: {"ready":true} or {"skip":reason} when Chromium cannot start.
import { createInterface } from "node:readline";

const modules = process.argv[2];
const { chromium } = await import(`${modules}/playwright-core/index.mjs`);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

let browser, page;
try {
  browser = await chromium.launch({
    executablePath: process.env.ZCH_CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  page.on("console", (m) => process.stderr.write(`page: ${m.text()}\n`));
  page.on("pageerror", (e) => process.stderr.write(`page error: ${e.message}\n`));
  say({ ready: true });
} catch (error) {
  say({ skip: `Chromium cannot start: ${error.message.split("\n")[0]}` });
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  try {
    let value = null;
    if (command.op === "open") await page.goto(command.url);
    else if (command.op === "eval") value = await page.evaluate(command.expr);
    else if (command.op === "wait")
      await page.waitForFunction(command.expr, null, { timeout: command.ms ?? 10000, polling: 50 });
    else if (command.op === "fill") await page.fill(command.selector, command.value);
    else if (command.op === "click") await page.click(command.selector);
    else if (command.op === "screenshot") await page.screenshot({ path: command.path });
    else if (command.op === "quit") break;
    say({ ok: true, value });
  } catch (error) {
    say({ ok: false, error: error.message.split("\n")[0] });
  }
}
await browser.close();
