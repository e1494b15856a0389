import { test as base, expect } from "@playwright/test";

/**
 * Every spec's `test`: fails a test when any page it opened reports a
 * Content-Security-Policy violation (a blocked script, style, image or
 * connection), so the policy is proven against every page the suite visits.
 */
export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ context }, use) => {
      const violations: string[] = [];
      const watch = (p: import("@playwright/test").Page) =>
        p.on("console", (m) => {
          const text = m.text();
          if (m.type() === "error" && /Content Security Policy/i.test(text)) {
            violations.push(`${p.url()}: ${text}`);
          }
        });
      context.pages().forEach(watch);
      context.on("page", watch);
      await use();
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
