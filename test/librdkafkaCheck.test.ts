/**
 * `npm ci` says it when the optional librdkafka client did not build (tools/librdkafkaCheck.ts), and a CI run fails
 * on it. The loader and npm's log are injected: rebuilding the real client takes minutes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLibrdkafka, newestNpmLog, npmLogsDir, reasonFromNpmLog } from "../tools/librdkafkaCheck";

const PKG = "@confluentinc/kafka-javascript";
/** The lines npm 10 writes to its debug log when an optional dependency's install script fails. */
const FAILED_BUILD_LOG = [
  "1 verbose cli /usr/bin/node /usr/bin/npm",
  "240 info run @confluentinc/kafka-javascript@1.10.1 install node_modules/@confluentinc/kafka-javascript node-pre-gyp install --fallback-to-build",
  "251 verbose reify failed optional dependency /work/node_modules/@confluentinc/kafka-javascript",
  "252 silly reify mark deleted [ '/work/node_modules/@confluentinc/kafka-javascript' ]",
  "260 info run @confluentinc/kafka-javascript@1.10.1 install { code: 1, signal: null } gyp ERR! build error: configure: error: OpenSSL not found",
].join("\n");

describe("the librdkafka client check", () => {
  it("a loaded client is one quiet line and exit 0, in CI too", () => {
    const r = checkLibrdkafka(PKG, { ok: true, version: "2.12.0" }, true, undefined);
    expect(r).toEqual({ line: expect.stringContaining("loaded (librdkafka 2.12.0)"), code: 0 });
  });

  it("a missing client outside CI is one line naming the reason, npm's log and the fix; exit 0", () => {
    const r = checkLibrdkafka(PKG, { ok: false, reason: `Cannot find module '${PKG}'` }, false, { path: "/root/.npm/_logs/x-debug-0.log", text: FAILED_BUILD_LOG });
    expect(r.code).toBe(0);
    expect(r.line.split("\n")).toHaveLength(1);
    expect(r.line).toContain(`librdkafka client NOT available: ${PKG} did not build or load (Cannot find module '${PKG}')`);
    expect(r.line).toContain("npm's log: /root/.npm/_logs/x-debug-0.log says: run @confluentinc/kafka-javascript@1.10.1 install { code: 1, signal: null } gyp ERR! build error: configure: error: OpenSSL not found");
    expect(r.line).toContain("falls back to kafkajs");
    expect(r.line).toContain(". .ci/install-librdkafka-client.sh && npm rebuild @confluentinc/kafka-javascript");
  });

  it("under CI=true a missing client fails the install (exit 1) and says so", () => {
    const r = checkLibrdkafka(PKG, { ok: false, reason: "libssl.so.3: cannot open shared object file" }, true, undefined);
    expect(r.code).toBe(1);
    expect(r.line).toContain("CI=true, so this fails the install");
    expect(r.line).toContain("npm's debug log was not found");
  });

  it("quotes the last failing npm log line about the package, not other packages' lines", () => {
    const text = `${FAILED_BUILD_LOG}\n300 warn other-package install failed`;
    expect(reasonFromNpmLog(text, PKG)).toMatch(/^run @confluentinc\/kafka-javascript.*OpenSSL not found$/);
    expect(reasonFromNpmLog("1 verbose cli npm ci\n2 info ok", PKG)).toBeUndefined();
  });

  it("finds npm's newest log where npm keeps it (npm_config_logs_dir, else <cache>/_logs)", () => {
    const dir = mkdtempSync(join(tmpdir(), "npm-logs-"));
    writeFileSync(join(dir, "2026-12-07T01_00_00_000Z-debug-0.log"), "old");
    writeFileSync(join(dir, "2026-12-07T02_00_00_000Z-debug-0.log"), FAILED_BUILD_LOG);
    expect(newestNpmLog(dir)).toEqual({ path: join(dir, "2026-12-07T02_00_00_000Z-debug-0.log"), text: FAILED_BUILD_LOG });
    expect(newestNpmLog(join(dir, "absent"))).toBeUndefined();
    expect(npmLogsDir({ npm_config_logs_dir: "/l" })).toBe("/l");
    expect(npmLogsDir({ npm_config_cache: "/c" })).toBe(join("/c", "_logs"));
  });

  it("runs after every npm ci/install (postinstall) as the check:librdkafka script", () => {
    const scripts = (JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.postinstall).toBe("npm run --silent check:librdkafka");
    expect(scripts["check:librdkafka"]).toBe("tsx tools/check-librdkafka.ts");
  });
});
