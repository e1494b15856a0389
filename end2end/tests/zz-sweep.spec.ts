import { test, expect } from "./fixtures";
import type { Browser, BrowserContext, Page } from "@playwright/test";
import { ENVS, envContext, loginWithCode, loginWithPassword } from "./helpers";

/**
 * Every page of every role (适老化, issue 21): each page a role can reach by
 * following links from its home, one page per route pattern, checked
 * in each of the five environments residents use (Chrome on Android, WeChat
 * on Android and on iOS without a service worker, JavaScript off, large
 * text with English):
 *   - every touch target >= 44 x 44 px (>= 60 x 60 px in large text);
 *   - no amount, area, time, date or status word broken across lines;
 *   - nothing wider than the screen, and no console error.
 * A link inside a sentence is exempt from the size rule (WCAG 2.5.8's inline
 * exception); a tick box counts by its label, which is what a finger taps.
 * Named zz- so that it runs last and sees the records the other specs made.
 */

const ROLES = [
  { role: "anonymous", start: ["/login", "/login/password", "/votes/receipt", "/receipts/check"] },
  { role: "resident", phone: "13800000001", start: ["/", "/me"] },
  { role: "grid worker", phone: "13700000001", start: ["/patrol", "/me"] },
  { role: "staff", phone: "13900000002", password: "demo1234", start: ["/staff", "/me"] },
  { role: "street admin", phone: "13900000001", password: "demo1234", start: ["/staff"] },
];

/** Pages not to open while crawling: downloads, machine answers, GETs that
 * record something (a look at personal data, a QR check-in), leaving. */
const SKIP = [
  /^\/api\//, /^\/dev\//, /^\/auth\//, /^\/pay\/sandbox/, /^\/photos?\//, /^\/pkg\//,
  /\.(ics|csv|gpx|json|geojson|xlsx|png|jpg|svg)($|\?)/, /^\/patrol\/checkpoints\//, /^\/volunteer\/scan/,
  /[?&](contact|show)=/, /^\/open311\//, /^\/incidents\/\d+\/photos/, /^\/incidents\/photos\//, /export/, /^\/staff\/patrol\/routes\/\d+\/sheet/,
];

/** One representative per route: numbers and codes in the path become ":id". */
function pattern(url: URL): string {
  const path = url.pathname
    .split("/")
    .map((seg) => (/^\d+$/.test(seg) || /^[A-Z0-9-]{8,}$/.test(seg) ? ":id" : seg))
    .join("/");
  const keys = [...url.searchParams.keys()].filter((k) => !["error", "next", "page"].includes(k)).sort();
  return keys.length ? `${path}?${keys.join("&")}` : path;
}

async function contextFor(browser: Browser, r: (typeof ROLES)[number], e: (typeof ENVS)[number]): Promise<BrowserContext> {
  const context = await envContext(browser, e);
  if (r.phone) {
    const page = await context.newPage();
    if (r.password) await loginWithPassword(page, r.phone, r.password);
    else await loginWithCode(page, r.phone);
    await page.waitForURL((u) => !u.pathname.startsWith("/login"));
    await page.close();
  }
  // the environment's settings after logging in (the helpers read Chinese labels)
  const url = test.info().project.use.baseURL!;
  await context.addCookies(Object.entries(e.cookies).map(([name, value]) => ({ name, value, url })));
  return context;
}

/** What is wrong on the page now: targets under `min` px, and words that wrap. */
async function problems(page: Page, min: number): Promise<string[]> {
  return page.evaluate((min) => {
    const out: string[] = [];
    const name = (el: Element) => {
      const text = (el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 24);
      const id = el.id ? `#${el.id}` : "";
      const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
      return `${el.tagName.toLowerCase()}${id}${cls} "${text}"`;
    };
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && !el.closest("[hidden], details:not([open]) > :not(summary)");
    };
    // a link in running text: its block has other words around it
    const inline = (el: Element) => {
      if (getComputedStyle(el).display !== "inline") return false;
      const block = el.parentElement;
      if (!block) return false;
      const own = (el.textContent ?? "").trim().length;
      const all = (block.textContent ?? "").replace(/[\s·|]/g, "").length;
      return all - own > 4;
    };
    const targets = document.querySelectorAll(
      "a[href], button, select, textarea, summary, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), label:has(> input[type=checkbox]), label:has(> input[type=radio]), label:has(input[type=checkbox]), label:has(input[type=radio])",
    );
    for (const el of targets) {
      if (!visible(el) || el.closest(".sr-only, .skip")) continue;
      if (el.tagName === "A" && inline(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.height < min - 0.5 || r.width < min - 0.5) out.push(`target ${Math.round(r.width)}x${Math.round(r.height)} < ${min}: ${name(el)}`);
    }
    // amounts, areas, times, dates: one line each
    const words = /¥-?[\d,]+(?:\.\d+)?|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}(?::\d{2})?|[\d.]+[\u00a0 ]?m²/g;
    const lines = (range: Range) => {
      const tops = new Set<number>();
      for (const rect of range.getClientRects()) if (rect.width > 0) tops.add(Math.round(rect.top / 4));
      return tops.size;
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.nodeValue ?? "";
      const parent = n.parentElement;
      if (!parent || !visible(parent) || parent.closest("script, style, .hash, .receipt-code, textarea, svg")) continue;
      for (const m of text.matchAll(words)) {
        const range = document.createRange();
        range.setStart(n, m.index!);
        range.setEnd(n, m.index! + m[0].length);
        if (lines(range) > 1) out.push(`"${m[0]}" wraps in ${name(parent)}`);
      }
    }
    for (const el of document.querySelectorAll(".status, .pill, .tag, .amount, .badge, .nw")) {
      if (!visible(el)) continue;
      const range = document.createRange();
      range.selectNodeContents(el);
      if (lines(range) > 1) out.push(`status/amount wraps: ${name(el)}`);
    }
    return out;
  }, min);
}

for (const e of ENVS) {
  for (const r of ROLES) {
    test(`${e.env}: every page a ${r.role} reaches has targets >= ${e.min} px and amounts and times on one line`, async ({ browser }) => {
      test.setTimeout(300_000);
      const context = await contextFor(browser, r, e);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (err) => errors.push(`${page.url()}: ${err.message}`));
      const seen = new Set<string>();
      const queue: string[] = [...r.start];
      const visited: string[] = [];
      const found: string[] = [];
      while (queue.length && visited.length < 80) {
        const path = queue.shift()!;
        const response = await page.goto(path).catch(() => null); // a download is no page
        if (!response || !(response.headers()["content-type"] ?? "").includes("text/html")) continue;
        const here = new URL(page.url());
        const key = pattern(here);
        if (seen.has(key)) continue;
        seen.add(key);
        visited.push(here.pathname + here.search);
        for (const p of await problems(page, e.min)) found.push(`${here.pathname}${here.search}: ${p}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 0) found.push(`${here.pathname}${here.search}: ${overflow} px wider than the screen`);
        const links = await page.$$eval("a[href]", (as) => as.map((a) => (a as HTMLAnchorElement).href));
        for (const href of links) {
          const u = new URL(href);
          if (u.origin !== here.origin || SKIP.some((re) => re.test(u.pathname + u.search))) continue;
          const k = pattern(u);
          if (!seen.has(k) && !queue.some((q) => pattern(new URL(q, here.origin)) === k)) queue.push(u.pathname + u.search);
        }
      }
      console.log(`${e.env} · ${r.role}: ${visited.length} pages`);
      expect(visited.length).toBeGreaterThan(r.phone ? 5 : 2);
      expect(found, `on ${visited.length} pages:\n${visited.join("\n")}`).toEqual([]);
      expect(errors, "console errors").toEqual([]);
      await context.close();
    });
  }
}
