/**
 * Patterns that pass on an idle machine and flake on a loaded one stay out of the tests and tools. kafkajs's
 * `createTopics({waitForLeaders: true})` asks one broker for the new topic's metadata and gives up with "This server
 * does not host this topic-partition" when that broker is a moment behind the controller; use
 * test/real/kafka/admin.ts createTopicsReady, which polls until every partition has a leader and a full ISR.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOTS = ["test", "tools"];
/** The option set to true in any spacing; `waitForLeaders: false` (what the helper passes) is fine. */
const WAIT_FOR_LEADERS = /waitForLeaders\s*:\s*true/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(p);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

describe("kafkajs pitfalls under load", () => {
  it("no test or tool creates topics with waitForLeaders: true (use createTopicsReady)", () => {
    const files = ROOTS.flatMap(sources);
    expect(files.length, "files scanned").toBeGreaterThan(50);
    const offenders = files.filter((f) => f !== join("test", "kafkaPitfalls.test.ts") && WAIT_FOR_LEADERS.test(readFileSync(f, "utf8")));
    expect(offenders, "replace with createTopicsReady from test/real/kafka/admin.ts").toEqual([]);
  });
});
