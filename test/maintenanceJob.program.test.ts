/**
 * The database maintenance CronJob inside the whole program under mocks: every stack runs it after the schema Job,
 * with the stack's own `watchpipe:database` and sessionization settings, and prod's staleness alert counts in the
 * configured interval.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { closeDelayMs, DEFAULT_PARTITIONS_AHEAD_DAYS, maintenanceSql } from "../connectors/maintenance";
import { MAINTENANCE_CRONJOB_NAME, maintenanceAlertAfterSec } from "../contract/database";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../contract/sessionization";
import { MAINTENANCE_SQL_ENV } from "../components/sink/maintenanceJobSpec";
import { runProgram, type ProgramRun } from "./harness";

const CRONJOB = "kubernetes:batch/v1:CronJob";
const JOB = "kubernetes:batch/v1:Job";
const SCHEMA_COMPONENT = "watchpipe:yugabyte:DbSchemaJob";
const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const OVERRIDE = {
  "watchpipe:database": { pieceRetentionDays: 3, segmentRetentionDays: 30, maintenanceEveryMinutes: 15 },
  "watchpipe:sessionization": { sessionGapSec: 60, tickIntervalSec: 20 },
};

const maintenance = (run: ProgramRun) => run.ofType(CRONJOB).filter((r) => r.inputs.metadata?.name === MAINTENANCE_CRONJOB_NAME);
const sqlOf = (r: ProgramRun["resources"][number]): string =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded provider inputs are untyped
  r.inputs.spec.jobTemplate.spec.template.spec.containers[0].env.find((e: any) => e.name === MAINTENANCE_SQL_ENV).value;

describe("the maintenance CronJob in the whole program", () => {
  const runs: Record<string, ProgramRun> = {};
  beforeAll(async () => {
    for (const stack of ["prod", "dev", "local"]) runs[stack] = await runProgram(stack);
    runs.tuned = await runProgram("prod", OVERRIDE);
  }, 180_000);

  it.each(["prod", "dev", "local"])("%s runs one, in the YugabyteDB namespace, after the schema Job, with the default settings", (stack) => {
    const [cron, ...more] = maintenance(runs[stack]!);
    expect(more).toHaveLength(0);
    expect(cron!.inputs.metadata.namespace).toBe("yugabyte");
    // dependsOn the schema Job's component, which Pulumi expands to its children: the Job and its files.
    const component = runs[stack]!.ofType(SCHEMA_COMPONENT)[0]!;
    const schemaJob = runs[stack]!.ofType(JOB).find((j) => j.parent === component.urn)!;
    // (The mock monitor names a dependency by its direct parent only: compare type and name.)
    expect(cron!.dependencies.filter((u) => u.endsWith(`$${JOB}::${schemaJob.name}`)), JSON.stringify(cron!.dependencies)).toHaveLength(1);
    expect(cron!.inputs.spec.schedule).toBe("*/5 * * * *");
    expect(sqlOf(cron!)).toBe(maintenanceSql({
      closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: 2, segmentRetentionDays: 400, partitionsAheadDays: DEFAULT_PARTITIONS_AHEAD_DAYS,
    }));
  });

  it("takes the stack's retention, interval and sessionization (a longer gap or tick closes later)", () => {
    const cron = maintenance(runs.tuned!)[0]!;
    expect(cron.inputs.spec.schedule).toBe("*/15 * * * *");
    expect(cron.inputs.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(720);
    const params = { sessionGapSec: 60, gracePeriodSec: 60, seekToleranceSec: 10, maxPlaybackRate: 2 };
    expect(sqlOf(cron)).toBe(maintenanceSql({ closeDelayMs: closeDelayMs(params, 20), pieceRetentionDays: 3, segmentRetentionDays: 30, partitionsAheadDays: DEFAULT_PARTITIONS_AHEAD_DAYS }));
    expect(closeDelayMs(params, 20)).toBeGreaterThan(closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS));
  });

  it("prod's DatabaseMaintenanceStale counts in the configured interval", () => {
    const threshold = (run: ProgramRun) => {
      const rule = run.ofType(RULE)[0]!;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded provider inputs are untyped
      const r = rule.inputs.spec.groups.flatMap((g: any) => g.rules).find((x: any) => x.alert === "DatabaseMaintenanceStale");
      return Number(/> (\d+)$/.exec(r.expr)![1]);
    };
    expect(threshold(runs.prod!)).toBe(maintenanceAlertAfterSec(5));
    expect(threshold(runs.tuned!)).toBe(maintenanceAlertAfterSec(15));
  });
});
