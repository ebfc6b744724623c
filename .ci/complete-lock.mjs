// Completes package-lock.json with the platform-specific optional packages (e.g. @rollup/rollup-darwin-arm64) that
// `npm install` leaves out when the registry it can reach does not carry them. Without those entries `npm ci` fails
// everywhere with "Missing: … from lock file". Each entry records only version, os, cpu and libc, so npm skips it on
// other platforms and fetches it on its own. Run after any `npm install` that changes the lock: node .ci/complete-lock.mjs
import { readFileSync, writeFileSync } from "node:fs";

const LOCK = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, "utf8"));
const packages = lock.packages;
const PLATFORM = /-(android|darwin|freebsd|linux|openbsd|openharmony|sunos|win32)-(arm64|arm|x64|ia32|loong64|ppc64|riscv64|s390x)(?:-(\w+))?$/;

let added = 0;
for (const [path, pkg] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const where = `${path ? `${path}/` : ""}node_modules/${name}`;
    const m = PLATFORM.exec(name);
    if (packages[where] || packages[`node_modules/${name}`] || !m) continue;
    const [, os, cpu, variant] = m;
    const entry = { version, cpu: [cpu], dev: pkg.dev, optional: true, os: [os] };
    if (os === "linux" && variant) entry.libc = [variant.startsWith("musl") ? "musl" : "glibc"];
    if (!entry.dev) delete entry.dev;
    packages[`node_modules/${name}`] = entry;
    added += 1;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform-specific optional package entries`);
