// The playground driven in headless Chromium (Debian's `chromium`, through playwright-core).
//
//   CCPOR_TOKEN=<token> node playground.mjs <playground url> <screenshot.png> <expected text>...
//
// Loads the page, enters the token, picks the PersonHistory tab, runs it, waits until the result
// pane shows every expected text, and saves a screenshot. Prints one JSON object:
// { tabs, result, screenshot }. CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

const [url, screenshot, ...expected] = process.argv.slice(2);
const token = process.env.CCPOR_TOKEN;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!url || !screenshot || !token) {
  console.error('usage: CCPOR_TOKEN=<token> node playground.mjs <url> <screenshot.png> <expected>...');
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: apt-get install chromium (scripts/test.sh does)`);
  process.exit(1);
}

// Root in a container has no user namespaces for Chromium's sandbox.
const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const failures = [];
  page.on('pageerror', (e) => failures.push(String(e)));
  await page.goto(url);
  await page.locator('.graphiql-container').waitFor({ timeout: 30000 });

  await page.fill('#token', token);
  await page.press('#token', 'Tab'); // `change` fires: the fetcher now sends the token
  await page.locator('#auth-state', { hasText: 'token set' }).waitFor();

  const tabs = await page.locator('.graphiql-tab').allInnerTexts();
  await page.locator('.graphiql-tab', { hasText: 'PersonHistory' }).click();
  await page.locator('.graphiql-execute-button').click();

  const readResult = () => page.evaluate(() => {
    const cm = document.querySelector('.graphiql-response .CodeMirror');
    if (cm && cm.CodeMirror) return cm.CodeMirror.getValue();
    return document.querySelector('.graphiql-response')?.innerText ?? '';
  });
  const deadline = Date.now() + 30000;
  let result = await readResult();
  while (!expected.every((t) => result.includes(t)) && Date.now() < deadline) {
    await page.waitForTimeout(200);
    result = await readResult();
  }
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ tabs, result, screenshot, pageErrors: failures }));
} finally {
  await browser.close();
}
