/**
 * The database maintenance CronJob (components/sink/maintenanceJobSpec.ts) and its alert: what it runs, as whom, that
 * one run at a time is killed before the next is due, and that the alert watches exactly this CronJob.
 */
import { describe, expect, it } from "vitest";
import { closeDelayMs, maintenanceSql, MAINTENANCE_SAFETY_MARGIN_MS } from "../connectors/maintenance";
import { MAINTENANCE_SQL_ENV, maintenanceJobSpecs } from "../components/sink/maintenanceJobSpec";
import { YSQL_ADMIN_USER } from "../components/sink/yugabyteSpecs";
import { alertRuleGroups } from "../components/ops/alertRules";
import {
  MAINTENANCE_CRONJOB_NAME, MAINTENANCE_EVERY_MIN_CHOICES, maintenanceAlertAfterSec, maintenanceDeadlineSec, maintenanceSchedule,
} from "../contract/database";
import { DEFAULT_SESSIONIZATION_PARAMS, worstCaseCloseDelaySec } from "../contract/sessionization";
import { CASE_ARGS } from "./alerts/cases";

const connection = {
  host: "yb-ysql.yugabyte.svc.cluster.local", port: 5433, database: "watchpipe", user: YSQL_ADMIN_USER,
  password: { secretName: "yugabyte-ysql-credentials", passwordKey: "password" },
  tls: { sslMode: "verify-ca" as const, caSecret: "yugabyte-root-ca" },
};
const params = { closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: 7, segmentRetentionDays: 400, partitionsAheadDays: 2 };
const build = (everyMinutes: number, extra: { images?: { mirror: string } } = {}) =>
  maintenanceJobSpecs({ namespace: "yugabyte", connection, everyMinutes, params, ...extra }).cronJob;

describe("database maintenance CronJob", () => {
  const cronJob = build(5);
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const container = pod.containers[0]!;
  const env = Object.fromEntries(container.env.map((e) => [e.name, "value" in e ? e.value : e.valueFrom]));

  it("runs the one maintenance statement with ysqlsh, stopping at the first error", () => {
    expect(env[MAINTENANCE_SQL_ENV]).toBe(maintenanceSql(params));
    expect(container.command.join(" ")).toContain(`ysqlsh -X -q -v ON_ERROR_STOP=1 -c "$${MAINTENANCE_SQL_ENV}"`);
    expect(cronJob.metadata.name).toBe(MAINTENANCE_CRONJOB_NAME);
    expect(cronJob.spec.schedule).toBe("*/5 * * * *");
    expect(cronJob.spec.timeZone).toBe("Etc/UTC");
  });

  it.each(MAINTENANCE_EVERY_MIN_CHOICES.map((m) => [m]))("every %i min: one run at a time, each killed before the next is due", (every) => {
    const c = build(every);
    expect(c.spec.concurrencyPolicy).toBe("Forbid");
    expect(c.spec.startingDeadlineSeconds).toBe(every * 60);
    const deadline = c.spec.jobTemplate.spec.activeDeadlineSeconds;
    expect(deadline).toBe(maintenanceDeadlineSec(every));
    expect(deadline).toBeGreaterThan(0);
    expect(deadline).toBeLessThan(every * 60);
    expect(c.spec.jobTemplate.spec.backoffLimit).toBeGreaterThanOrEqual(1);
    expect(c.spec.successfulJobsHistoryLimit).toBeGreaterThanOrEqual(1);
    expect(c.spec.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1);
    expect(c.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("Never");
  });

  it("refuses an interval cron cannot fire evenly, naming the key and the choices", () => {
    expect(() => build(7)).toThrow(/database\.maintenanceEveryMinutes: expected one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60 .*got 7/);
    expect(maintenanceSchedule(60)).toBe("0 * * * *");
  });

  it("logs in as the schema owner with the password from its Secret, never a literal, over verified TLS", () => {
    expect(env).toMatchObject({
      PGUSER: YSQL_ADMIN_USER, PGHOST: connection.host, PGPORT: "5433", PGDATABASE: "watchpipe", PGSSLMODE: "verify-ca",
      PGPASSWORD: { secretKeyRef: { name: "yugabyte-ysql-credentials", key: "password" } },
    });
    expect(container.env.filter((e) => /PASSWORD/.test(e.name)).every((e) => !("value" in e))).toBe(true);
    expect(pod.volumes).toContainEqual({ name: "ca", secret: { secretName: "yugabyte-root-ca" } });
  });

  it("runs unprivileged with bounded resources and a pinned image", () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.image).toMatch(/^[^:]+:[0-9][^:]*$/);
    expect(build(5, { images: { mirror: "registry.corp.example/proxy" } }).spec.jobTemplate.spec.template.spec.containers[0]!.image).toMatch(/^registry\.corp\.example\/proxy\//);
  });

  it("closes a segment only after the worst-case close delay plus the sink lag allowance and a margin", () => {
    const worst = worstCaseCloseDelaySec(DEFAULT_SESSIONIZATION_PARAMS) * 1000;
    expect(params.closeDelayMs).toBeGreaterThanOrEqual(worst + MAINTENANCE_SAFETY_MARGIN_MS);
    // A longer tick interval delays closing, so the job waits longer too.
    expect(closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS, 60)).toBeGreaterThan(closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS, 10));
  });

  it("DatabaseMaintenanceStale watches this CronJob in the YugabyteDB namespace, for three missed runs (15 min at least)", () => {
    const rule = alertRuleGroups(CASE_ARGS).flatMap((g) => g.rules).find((r) => r.alert === "DatabaseMaintenanceStale");
    expect(rule?.expr).toContain(`cronjob="${MAINTENANCE_CRONJOB_NAME}"`);
    expect(rule?.expr).toContain(`namespace="${CASE_ARGS.yugabyteNamespace}"`);
    expect(rule?.expr).toMatch(new RegExp(`> ${maintenanceAlertAfterSec(CASE_ARGS.maintenanceEveryMinutes)}$`));
    expect(rule?.annotations.runbook_url).toMatch(/yugabyte\.md#maintenance-stale$/);
    expect([1, 5, 10, 60].map(maintenanceAlertAfterSec)).toEqual([900, 900, 1800, 10800]);
  });
});

describe("watchpipe:database defaults and bounds", () => {
  it("every retention config accepts is one the maintenance statement accepts (a bad value fails at preview, not in the job)", async () => {
    const c = await import("../contract/database");
    for (const [piece, segment] of [[c.MIN_PIECE_RETENTION_DAYS, c.MIN_PIECE_RETENTION_DAYS], [c.MAX_PIECE_RETENTION_DAYS, c.MAX_SEGMENT_RETENTION_DAYS], [c.DEFAULT_PIECE_RETENTION_DAYS, c.DEFAULT_SEGMENT_RETENTION_DAYS]]) {
      expect(() => maintenanceSql({ ...params, pieceRetentionDays: piece!, segmentRetentionDays: segment! })).not.toThrow();
    }
  });
  it("are the maintenance statement's own defaults (config.ts may read only contract/, the SQL side lives in connectors/)", async () => {
    const sqlSide = await import("../connectors/maintenance");
    const contract = await import("../contract/database");
    expect(contract.DEFAULT_PIECE_RETENTION_DAYS).toBe(sqlSide.DEFAULT_PIECE_RETENTION_DAYS);
    expect(contract.DEFAULT_SEGMENT_RETENTION_DAYS).toBe(sqlSide.DEFAULT_SEGMENT_RETENTION_DAYS);
  });
});
