/**
 * `npm run check:librdkafka` (also npm's `postinstall`, so `npm ci` and .ci/run print it): one line saying whether
 * the optional librdkafka client built and, when it did not, why (quoting npm's log) and how to fix it. Exits 1 only
 * under CI=true, so a CI run cannot lose the fast client silently; elsewhere it warns and the install goes on.
 */
import { EXIT_CODES_HELP } from "./exitCodes";
import { parseCommandLine, runTool } from "./cli";
import { checkLibrdkafka, newestNpmLog, npmLogsDir, type ClientLoad } from "./librdkafkaCheck";
import { LIBRDKAFKA_PACKAGE, loadLibrdkafka } from "./loadgen/rdkafkaSender";

const HELP = `Usage: npm run check:librdkafka

Loads the optional librdkafka client (${LIBRDKAFKA_PACKAGE}) and prints one line: loaded (with its librdkafka
version), or not available with the loader's reason, the npm log that holds the build output and the fix. Runs as
npm's postinstall, so \`npm ci\` shows it. Under CI=true a missing client fails (exit 1); otherwise it only warns.

${EXIT_CODES_HELP}`;

runTool("check-librdkafka", () => {
  if (parseCommandLine({ name: "check-librdkafka", help: HELP, options: {} }, process.argv.slice(2)) === undefined) return 0;
  const loaded = loadLibrdkafka();
  const load: ClientLoad = loaded.ok ? { ok: true, version: loaded.version } : { ok: false, reason: loaded.reason };
  const result = checkLibrdkafka(LIBRDKAFKA_PACKAGE, load, process.env.CI === "true", load.ok ? undefined : newestNpmLog(npmLogsDir(process.env)));
  (result.code === 0 ? process.stdout : process.stderr).write(`${result.line}\n`);
  return result.code;
});
