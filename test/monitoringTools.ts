/**
 * Where the monitoring binaries live: built/fetched outside the repository by .ci/install-monitoring-tools.sh into
 * $WATCHPIPE_TOOLS_DIR (default ~/.cache/watchpipe/monitoring), or named one by one with $PROMTOOL, $PROMETHEUS and
 * $JMX_EXPORTER_AGENT. Tests that need them skip with the reason locally and fail under CI=true (CI runs the script).
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Same versions as the install script (and as the kube-prometheus-stack 88.5.3 Prometheus image, v3.14.0). */
export const PROMETHEUS_VERSION = "3.14.0";
export const JMX_EXPORTER_VERSION = "1.0.1";

export const TOOLS_DIR = process.env.WATCHPIPE_TOOLS_DIR ?? join(homedir(), ".cache", "watchpipe", "monitoring");

export const PROMTOOL = process.env.PROMTOOL ?? join(TOOLS_DIR, `prometheus-${PROMETHEUS_VERSION}`, "promtool");
export const PROMETHEUS = process.env.PROMETHEUS ?? join(TOOLS_DIR, `prometheus-${PROMETHEUS_VERSION}`, "prometheus");
export const JMX_EXPORTER_AGENT = process.env.JMX_EXPORTER_AGENT ?? join(TOOLS_DIR, `jmx_prometheus_javaagent-${JMX_EXPORTER_VERSION}.jar`);

/** Why the tools cannot be used, or undefined when all are there. */
export function missingTools(paths: readonly string[]): string | undefined {
  const missing = paths.filter((p) => !existsSync(p));
  return missing.length ? `missing ${missing.join(", ")}; run .ci/install-monitoring-tools.sh` : undefined;
}
