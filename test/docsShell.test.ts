/**
 * The readers behind the docs checks (test/docs/): the shell reader resolves what a script sets itself and marks
 * what it cannot, the kubectl parser turns a command into the objects it expects, and the inventory answers for the
 * objects Strimzi and the workloads create. Table-driven, no program run.
 */
import { describe, expect, it } from "vitest";
import type { RenderedObject } from "../tools/renderObjects";
import { find, inventoryOf, selectorMatches } from "./docs/clusterInventory";
import { parseKubectl } from "./docs/kubectlRefs";
import { commandsOf, newScope, type Word } from "./docs/shellWords";

const words = (script: string, env: Record<string, string> = {}, outputs: Record<string, string> = {}) =>
  commandsOf(script, newScope(env), (w: readonly Word[]) => (w[0]?.text === "pulumi" ? outputs[w[w.length - 1].text] : undefined)).map((c) => c.words);
const texts = (script: string, env: Record<string, string> = {}, outputs: Record<string, string> = {}) => words(script, env, outputs).map((ws) => ws.map((w) => w.text));

describe("shell reader", () => {
  it.each([
    ["assignment then use, quotes removed", 'ns=kafka\nkubectl -n "$ns" get pods', {}, [["kubectl", "-n", "kafka", "get", "pods"]]],
    ["${var%%.*} and ${var#*.} trims", 'h=yb-ysql.yugabyte.svc\necho "${h%%.*}" "${h#*.}"', {}, [["echo", "yb-ysql", "yugabyte.svc"]]],
    ["the step env", "kubectl -n $NS get svc", { NS: "yugabyte" }, [["kubectl", "-n", "yugabyte", "get", "svc"]]],
    ["continuation lines, a pipe and a redirection", "kubectl get secret x \\\n  -o json | base64 -d > out", {}, [["kubectl", "get", "secret", "x", "-o", "json"], ["base64", "-d"]]],
    ["doc placeholders stay one word", "kubectl -n <yugabyte ns> logs job/<latest job>", {}, [["kubectl", "-n", "<yugabyte ns>", "logs", "job/<latest job>"]]],
    ["comments and control keywords dropped", "if true; then echo a; fi # note", {}, [["true"], ["echo", "a"]]],
  ] as const)("%s", (_name, script, env, expected) => {
    expect(texts(script, { ...env })).toEqual(expected);
  });

  it("a script's function around `pulumi stack output` resolves from the stack's outputs", () => {
    const script = 'out() { pulumi stack output --stack "$STACK" "$1"; }\nhost=$(out ysqlHost)\necho "svc=${host%%.*}"';
    expect(texts(script, {}, { ysqlHost: "yb-ysql.yugabyte.svc.cluster.local" }).pop()).toEqual(["echo", "svc=yb-ysql"]);
  });

  it("what it cannot resolve stays as written and is listed", () => {
    // `$(…)` runs too, so its command comes first; the kubectl line is the one that matters.
    const cmd = words('kubectl -n "$UNSET" get svc/$(date +%s)').find((ws) => ws[0]?.text === "kubectl")!;
    expect(cmd.map((w) => w.text)).toEqual(["kubectl", "-n", "$UNSET", "get", "svc/$(date +%s)"]);
    expect(cmd.flatMap((w) => w.unresolved)).toEqual(["$UNSET", "$(date +%s)"]);
  });
});

describe("kubectl parser", () => {
  const parse = (line: string) => parseKubectl(words(line).find((ws) => ws[0]?.text === "kubectl")!);
  it.each([
    ["kubectl -n kafka get deploy session-ticker", [{ what: "namespace", namespace: "kafka" }, { what: "object", kind: "Deployment", name: "session-ticker", namespace: "kafka" }]],
    ["kubectl -n yugabyte get secret ca -o jsonpath='{.data.ca\\.crt}'", [{ what: "namespace", namespace: "yugabyte" }, { what: "object", kind: "Secret", name: "ca", namespace: "yugabyte" }, { what: "dataKey", kind: "Secret", name: "ca", key: "ca.crt", namespace: "yugabyte" }]],
    ["kubectl -n kafka port-forward svc/kafka-ui 8080:8080", [{ what: "namespace", namespace: "kafka" }, { what: "object", kind: "Service", name: "kafka-ui", namespace: "kafka" }, { what: "port", kind: "Service", name: "kafka-ui", port: "8080", namespace: "kafka" }]],
    ["kubectl -n kafka logs job/j -c migrate", [{ what: "namespace", namespace: "kafka" }, { what: "object", kind: "Job", name: "j", namespace: "kafka" }, { what: "container", kind: "Job", name: "j", container: "migrate", namespace: "kafka" }]],
    ["kubectl -n kafka get pods -l strimzi.io/kind=KafkaConnect", [{ what: "namespace", namespace: "kafka" }, { what: "selector", kind: "Pod", selector: "strimzi.io/kind=KafkaConnect", namespace: "kafka" }]],
    ["kubectl -n yugabyte create job --from=cronjob/backup backup-manual-$(date +%s)", [{ what: "namespace", namespace: "yugabyte" }, { what: "object", kind: "CronJob", name: "backup", namespace: "yugabyte" }]],
  ])("%s", (line, refs) => {
    const p = parse(line);
    expect(p.refs).toEqual(refs);
    expect(p.missingNamespace).toBe(false);
    expect(p.unresolved).toEqual([]);
  });

  it.each(["kubectl describe pod", "kubectl logs --previous", "kubectl get pods -l a=b", "kubectl port-forward svc/x 7000"])("`%s` names no namespace", (line) => {
    expect(parse(line).missingNamespace).toBe(true);
  });
});

describe("inventory of what the operators and workloads create", () => {
  const rendered = (kind: string, name: string, object: Record<string, unknown>): RenderedObject =>
    ({ path: `kafka/${kind.toLowerCase()}-${name}.yaml`, namespace: "kafka", apiVersion: "v1", kind, name, urn: "urn:x", object: { kind, metadata: { name, namespace: "kafka" }, ...object } });
  const inv = inventoryOf([
    rendered("KafkaBridge", "ingest", { spec: { http: { port: 8080 } } }),
    rendered("KafkaNodePool", "dual", { metadata: { name: "dual", namespace: "kafka", labels: { "strimzi.io/cluster": "events" } }, spec: { replicas: 3, roles: ["broker", "controller"] } }),
    rendered("StatefulSet", "ksqldb", { spec: { replicas: 2, template: { metadata: { labels: { app: "ksqldb" } }, spec: { containers: [{ name: "ksqldb", ports: [{ containerPort: 8088 }] }] } } } }),
  ]);
  it("Strimzi's bridge Service with its HTTP port, pool pods with role labels, StatefulSet pods by ordinal", () => {
    expect(find(inv, { kind: "Service", name: "ingest-bridge-service", namespace: "kafka" })[0]?.ports).toContain("8080");
    expect(find(inv, { kind: "Pod", namespace: "kafka", selector: "strimzi.io/controller-role=true" })).toHaveLength(3);
    expect(find(inv, { kind: "Pod", name: "ksqldb-1" })[0]?.containers).toEqual(["ksqldb"]);
    expect(find(inv, { kind: "Pod", name: "ksqldb-2" })).toEqual([]);
  });
  it.each([
    ["a=b", { a: "b" }, true],
    ["a=b,c", { a: "b" }, false],
    ["a!=b", { a: "c" }, true],
    ["a", { a: "" }, true],
  ])("selector %s on %j: %s", (sel, labels, ok) => expect(selectorMatches(sel, labels)).toBe(ok));
});
