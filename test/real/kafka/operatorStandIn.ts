/**
 * OPERATOR STAND-IN: what Strimzi's operator does for a KafkaConnector with `autoRestart.enabled` — it restarts
 * FAILED tasks. In the cluster the operator reconciles every couple of minutes; the stand-in polls the Connect REST
 * API more often to keep the suites short. Used by the fault suites, whose sink must recover without a human
 * (Debezium JDBC fails its task when the database connection drops).
 */
import type { ConnectWorker } from "./connect";

export interface OperatorStandIn {
  /** FAILED tasks restarted so far. */
  readonly restarts: number;
  stop(): Promise<void>;
}

const DEFAULT_POLL_MS = 2_000;

/** Starts polling `connector` on the current worker (a getter: the worker may be replaced between polls). */
export function startOperatorStandIn(opts: {
  readonly worker: () => ConnectWorker;
  readonly connector: string;
  readonly log: (line: string) => void;
  readonly pollMs?: number;
}): OperatorStandIn {
  let restarts = 0;
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      const worker = opts.worker();
      const st = await worker.connectorStatus(opts.connector).catch(() => null);
      const failed = st?.tasks.find((t) => t.state === "FAILED");
      if (failed !== undefined) {
        restarts++;
        opts.log(`OPERATOR STAND-IN: ${opts.connector} task ${failed.id} FAILED (${(failed.trace ?? "").split("\n")[0]}); restarting it`);
        await worker.restartFailed(opts.connector).catch((err: unknown) => opts.log(`OPERATOR STAND-IN: restart of ${opts.connector} failed: ${(err as Error).message}`));
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, opts.pollMs ?? DEFAULT_POLL_MS);
      });
    }
  })();
  return {
    get restarts() {
      return restarts;
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
