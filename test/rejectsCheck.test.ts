/**
 * The rejects check CronJob (components/sink/rejectsCheckSpec.ts) and its alert: what it runs, as whom, how a failed
 * run stays visible, and that the alert watches exactly this CronJob. The script itself runs on real PostgreSQL in
 * test/real/rejects.test.ts.
 */
import { describe, expect, it } from "vitest";
import { REJECTS_ALERT_AFTER_SEC, REJECTS_CHECK_EVERY_MIN, REJECTS_CHECK_NAME, rejectsCheckScript } from "../connectors/rejectsCheck";
import { rejectsCheckSpecs } from "../components/sink/rejectsCheckSpec";
import { YSQL_SINK_USER } from "../components/sink/yugabyteSpecs";
import { alertRuleGroups } from "../components/ops/alertRules";
import { CASE_ARGS } from "./alerts/cases";

const connection = {
  host: "yb-ysql.yugabyte.svc.cluster.local", port: 5433, database: "watchpipe", user: YSQL_SINK_USER,
  password: { secretName: "yugabyte-sink-credentials", passwordKey: "password" },
  tls: { sslMode: "verify-ca" as const, caSecret: "yugabyte-root-ca" },
};

describe("rejects check CronJob", () => {
  const { configMap, cronJob } = rejectsCheckSpecs({ namespace: "yugabyte", connection });
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, "value" in e ? e.value : e.valueFrom]));

  it("runs the generated script every few minutes, one run at a time, and a failed run is not retried away", () => {
    expect(configMap.data["check-rejects.sh"]).toBe(rejectsCheckScript());
    expect(cronJob.spec).toMatchObject({ schedule: `*/${REJECTS_CHECK_EVERY_MIN} * * * *`, concurrencyPolicy: "Forbid" });
    expect(cronJob.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 120 });
    expect(pod.restartPolicy).toBe("Never");
    expect(cronJob.metadata.name).toBe(REJECTS_CHECK_NAME);
  });

  it("logs in as the sink role with its password from the Secret, over verified TLS", () => {
    expect(env).toMatchObject({
      PGUSER: YSQL_SINK_USER, PGHOST: connection.host, PGPORT: "5433", PGDATABASE: "watchpipe", PGSSLMODE: "verify-ca",
      PGPASSWORD: { secretKeyRef: { name: "yugabyte-sink-credentials", key: "password" } },
    });
    expect(pod.volumes).toContainEqual({ name: "ca", secret: { secretName: "yugabyte-root-ca" } });
  });

  it("runs unprivileged: non-root, no token, read-only root, no capabilities, a pinned image", () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.containers[0]!.image).toMatch(/^[^:]+:[0-9][^:]*$/);
  });

  it("pulls from the mirror when one is set", () => {
    const mirrored = rejectsCheckSpecs({ namespace: "yugabyte", connection, images: { mirror: "registry.corp.example/proxy" } });
    expect(mirrored.cronJob.spec.jobTemplate.spec.template.spec.containers[0]!.image).toMatch(/^registry\.corp\.example\/proxy\//);
  });

  it("SinkRowsRefused watches this CronJob in the YugabyteDB namespace, for three missed runs", () => {
    const rule = alertRuleGroups(CASE_ARGS).flatMap((g) => g.rules).find((r) => r.alert === "SinkRowsRefused");
    expect(rule?.expr).toContain(`cronjob="${REJECTS_CHECK_NAME}"`);
    expect(rule?.expr).toContain(`namespace="${CASE_ARGS.yugabyteNamespace}"`);
    expect(rule?.expr).toMatch(new RegExp(`> ${REJECTS_ALERT_AFTER_SEC}$`));
    expect(REJECTS_ALERT_AFTER_SEC).toBe(3 * REJECTS_CHECK_EVERY_MIN * 60);
    expect(rule?.annotations.runbook_url).toMatch(/connector-failed\.md#rows-refused$/);
  });
});
