/**
 * A real Kubernetes API server (issue 15): etcd and kube-apiserver built by .ci/install-engines.sh, on 127.0.0.1
 * with throwaway certificates, the CRDs of ../shared/crds installed, and a strict server-side dry-run
 * (server-side apply, dryRun=All, fieldValidation=Strict) of every object every stack renders and of `helm template`
 * of every chart the program installs, with the program's exact values. A failure names the object, the field and
 * the server's message. Everything started here is stopped in afterAll.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { HELM_RELEASE_TYPE, isObject, k8sType } from "../../contract/resourceChecks";
import { unwrapSecret } from "../../tools/renderObjects";
import { runProgram, type RecordedResource } from "../harness";
import { SHARED_DIR } from "../sharedRefs";
import { describeWithShared } from "../withShared";

const ENGINES = process.env.WATCHPIPE_ENGINES ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "watchpipe", "engines");
// Keep in step with .ci/install-engines.sh.
const ETCD = join(ENGINES, "etcd-3.6.16", "etcd");
const KUBE_APISERVER = join(ENGINES, "kube-apiserver-1.34.12", "kube-apiserver");
const HELM = join(ENGINES, "helm-3.22.0", "helm");
const TOKEN = "watchpipe-throwaway-token";
const STACKS = ["dev", "prod", "local"];
/** prod with a restore requested: the only way the restore Job renders. */
const RESTORING = "prod+restoreFrom";
/** dev with the ingest gateway (issue 24): the only way its Deployment, HPA, PDB and Ingress render. */
const GATEWAY = "dev+ingest.gateway";
const GATEWAY_CONFIG = {
  "watchpipe:bridge": { replicas: 1, exposure: "internet-facing", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234" },
  "watchpipe:ingest": {
    jwt: { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"] },
    gateway: { image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway@sha256:${"ab".repeat(32)}` },
  },
};

type Obj = Record<string, unknown>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

let apiPort = 0;
function api(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; json: Obj }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      host: "127.0.0.1", port: apiPort, method, path, rejectUnauthorized: false,
      headers: { Authorization: `Bearer ${TOKEN}`, ...(data ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(data) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: Obj = {};
        try { json = JSON.parse(text) as Obj; } catch { json = { message: text }; }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on("error", reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    if (data) req.write(data);
    req.end();
  });
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try { if (await ok()) return; } catch { /* not up yet */ }
    if (Date.now() > until) throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** kind → REST path and scope, from the server's own discovery. */
const resources = new Map<string, { plural: string; namespaced: boolean }>();
async function discover(): Promise<void> {
  resources.clear();
  const groupVersions = ["v1"];
  const apis = (await api("GET", "/apis")).json as { groups?: { versions: { groupVersion: string }[] }[] };
  for (const g of apis.groups ?? []) for (const v of g.versions) groupVersions.push(v.groupVersion);
  for (const gv of groupVersions) {
    const list = (await api("GET", gv === "v1" ? "/api/v1" : `/apis/${gv}`)).json as { resources?: { name: string; kind: string; namespaced: boolean }[] };
    for (const r of list.resources ?? []) if (!r.name.includes("/")) resources.set(`${gv}/${r.kind}`, { plural: r.name, namespaced: r.namespaced });
  }
}

function objectPath(o: Obj): string {
  const apiVersion = String(o.apiVersion);
  const kind = String(o.kind);
  const meta = (o.metadata ?? {}) as Obj;
  const r = resources.get(`${apiVersion}/${kind}`);
  if (!r) throw new Error(`${kind} ${String(meta.name)}: the server does not serve ${apiVersion} ${kind} (missing CRD?)`);
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = r.namespaced ? `/namespaces/${String(meta.namespace ?? "default")}` : "";
  return `${base}${ns}/${r.plural}/${encodeURIComponent(String(meta.name))}`;
}

/** Server-side apply; with `dryRun` nothing is stored. Returns "" or "<object>: <server message>". */
async function apply(o: Obj, dryRun = true): Promise<string> {
  const meta = (o.metadata ?? {}) as Obj;
  const label = `${String(o.kind)} ${meta.namespace ? `${String(meta.namespace)}/` : ""}${String(meta.name)}`;
  let path: string;
  try { path = objectPath(o); } catch (e) { return (e as Error).message; }
  const query = `?fieldManager=watchpipe-test&force=true&fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`;
  const res = await api("PATCH", path + query, o, "application/apply-patch+yaml");
  return res.status >= 200 && res.status < 300 ? "" : `${label}: ${String(res.json.message ?? res.status)}`;
}

/** Deep copy without Pulumi secret wrappers and undefined leaves. */
function plain(value: unknown): unknown {
  const v = unwrapSecret(value);
  if (Array.isArray(v)) return v.map(plain);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plain(x)]));
}

/** The object a typed Kubernetes resource sends (Pulumi auto-names objects without metadata.name). */
function kubernetesObject(r: RecordedResource): Obj | undefined {
  const t = k8sType(r.type);
  if (!t || r.type === HELM_RELEASE_TYPE) return undefined;
  const o = plain(r.inputs) as Obj;
  if (typeof o.apiVersion !== "string" || typeof o.kind !== "string") return undefined;
  const meta = { ...((o.metadata ?? {}) as Obj) };
  if (typeof meta.name !== "string") meta.name = `${r.name}-a1b2c3d4`;
  return { ...o, metadata: meta };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(e) ? [p] : [];
  });
}

const missingEngines = [ETCD, KUBE_APISERVER, HELM].filter((b) => !existsSync(b));
/** Outside CI a machine without the engines skips these tests (with the reason below); under CI=true it fails. */
const skipEngines = missingEngines.length > 0 && process.env.CI !== "true";

describeWithShared("strict server-side dry-run against a real kube-apiserver", () => {
  const procs: ChildProcess[] = [];
  let dir = "";
  let caB64 = { cert: "", key: "" };
  const programRuns = new Map<string, RecordedResource[]>();

  beforeAll(async () => {
    if (missingEngines.length > 0) {
      const msg = `engines not built (${missingEngines.join(", ")}); run .ci/install-engines.sh`;
      if (process.env.CI === "true") throw new Error(msg);
      console.warn(`[skipped] ${msg}`);
      return;
    }
    dir = mkdtempSync(join(tmpdir(), "watchpipe-apiserver-"));
    const etcdPort = await freePort();
    const peerPort = await freePort();
    apiPort = await freePort();
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    writeFileSync(join(dir, "sa.key"), privateKey);
    writeFileSync(join(dir, "sa.pub"), publicKey);
    writeFileSync(join(dir, "tokens.csv"), `${TOKEN},admin,admin,"system:masters"\n`);
    // A throwaway CA for `helm template` of the yugabyte chart (the mock CA is not a certificate).
    execFileSync("openssl", ["genrsa", "-traditional", "-out", join(dir, "ca.key"), "2048"], { stdio: "ignore" });
    execFileSync("openssl", ["req", "-x509", "-key", join(dir, "ca.key"), "-out", join(dir, "ca.crt"), "-days", "1", "-subj", "/CN=watchpipe-test-ca", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment"], { stdio: "ignore" });
    caB64 = { cert: readFileSync(join(dir, "ca.crt")).toString("base64"), key: readFileSync(join(dir, "ca.key")).toString("base64") };
    const log = (name: string) => (d: Buffer) => { if (process.env.WATCHPIPE_ENGINE_LOGS) process.stderr.write(`[${name}] ${d.toString()}`); };
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = spawn(ETCD, [
      "--name", "t", "--data-dir", join(dir, "etcd"), "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
      "--listen-peer-urls", `http://127.0.0.1:${peerPort}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
      "--initial-cluster", `t=http://127.0.0.1:${peerPort}`, "--log-level", "error",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    procs.push(etcd);
    etcd.stderr?.on("data", log("etcd"));
    const apiserver = spawn(KUBE_APISERVER, [
      `--etcd-servers=${etcdUrl}`, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "certs")}`, `--token-auth-file=${join(dir, "tokens.csv")}`, "--authorization-mode=RBAC",
      `--service-account-key-file=${join(dir, "sa.pub")}`, `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-account-issuer=https://kubernetes.default.svc", "--service-cluster-ip-range=10.96.0.0/16",
      "--disable-admission-plugins=ServiceAccount", "--v=0",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    procs.push(apiserver);
    apiserver.stderr?.on("data", log("kube-apiserver"));
    await waitFor("kube-apiserver", async () => (await api("GET", "/readyz")).status === 200, 180_000);

    // The operators' CRDs, and those charts ship in their crds/ folder (Helm installs them before the templates).
    const chartCrdDirs = readdirSync(join(SHARED_DIR, "charts")).map((c) => join(SHARED_DIR, "charts", c, "crds")).filter((d) => existsSync(d));
    const crdFiles = [join(SHARED_DIR, "crds"), ...chartCrdDirs].flatMap(yamlFiles);
    const crdNames: string[] = [];
    for (const file of crdFiles) {
      for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
        const crd = doc.toJS() as Obj | null;
        if (!crd || crd.kind !== "CustomResourceDefinition") continue;
        const res = await api("PATCH", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${String((crd.metadata as Obj).name)}?fieldManager=watchpipe-test&force=true`, crd, "application/apply-patch+yaml");
        if (res.status >= 300) throw new Error(`CRD ${file}: ${String(res.json.message)}`);
        crdNames.push(String((crd.metadata as Obj).name));
      }
    }
    await waitFor("CRDs established", async () => {
      for (const name of crdNames) {
        const c = (await api("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`)).json as { status?: { conditions?: { type: string; status: string }[] } };
        if (!c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")) return false;
      }
      return true;
    }, 120_000);
    await discover();
    for (const stack of STACKS) programRuns.set(stack, (await runProgram(stack)).resources);
    programRuns.set(RESTORING, (await runProgram("prod", { "watchpipe:backup": { enabled: true, restoreFrom: "watchpipe-20261202T031700Z.sql.gz" } })).resources);
    programRuns.set(GATEWAY, (await runProgram("dev", GATEWAY_CONFIG)).resources);
  }, 600_000);

  afterAll(async () => {
    for (const p of procs.reverse()) {
      p.kill("SIGTERM");
      await new Promise((r) => { if (p.exitCode !== null) r(undefined); else { p.once("exit", r); setTimeout(r, 10_000); } });
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Create the namespaces for real (dry-run needs them), then dry-run every object. */
  async function dryRunAll(objects: Obj[]): Promise<string[]> {
    const namespaces = new Set(objects.map((o) => (o.metadata as Obj).namespace).filter((n): n is string => typeof n === "string"));
    for (const ns of namespaces) await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, false);
    const failures: string[] = [];
    for (const o of objects) {
      const f = await apply(o);
      if (f) failures.push(f);
    }
    return failures;
  }

  it.skipIf(skipEngines).each(STACKS)("every object stack %s renders passes a strict server-side dry-run", async (stack) => {
    const objects = (programRuns.get(stack) ?? []).map(kubernetesObject).filter((o): o is Obj => o !== undefined);
    expect(objects.length).toBeGreaterThan(20);
    expect(await dryRunAll(objects)).toEqual([]);
  }, 300_000);

  it.skipIf(skipEngines)("prod restoring a backup (backup.restoreFrom): the restore Job passes the same dry-run", async () => {
    const objects = (programRuns.get(RESTORING) ?? []).map(kubernetesObject).filter((o): o is Obj => o !== undefined);
    const restore = objects.filter((o) => o.kind === "Job" && String((o.metadata as Obj).name).startsWith("yugabyte-restore-"));
    expect(restore).toHaveLength(1);
    expect(await dryRunAll(restore)).toEqual([]);
  }, 300_000);

  it.skipIf(skipEngines)("dev with the ingest gateway: its ConfigMap, the smoke issuer's JWKS Secret, Deployment, Service, NetworkPolicy, HPA, PDB, PodMonitor and Ingress pass the same dry-run", async () => {
    const objects = (programRuns.get(GATEWAY) ?? []).map(kubernetesObject).filter((o): o is Obj => o !== undefined);
    const gateway = objects.filter((o) => String((o.metadata as Obj).name).startsWith("ingest-gateway") || o.kind === "Ingress");
    // The Secret: the deploy smoke issuer's JWKS (on by default in dev). The PodMonitor: Prometheus scrapes Camel.
    expect(gateway.map((o) => o.kind).sort()).toEqual(["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Ingress", "NetworkPolicy", "PodDisruptionBudget", "PodMonitor", "Secret", "Service"]);
    expect(await dryRunAll(gateway)).toEqual([]);
  }, 300_000);

  it.skipIf(skipEngines).each(STACKS)("helm template of every chart stack %s installs, with the program's values, passes the same dry-run", async (stack) => {
    const releases = (programRuns.get(stack) ?? []).filter((r) => r.type === HELM_RELEASE_TYPE && r.custom);
    const charts = readdirSync(join(SHARED_DIR, "charts"));
    const failures: string[] = [];
    for (const r of releases) {
      const inputs = plain(r.inputs) as Obj;
      const chartName = String(inputs.chart).split("/").pop() ?? "";
      const chartDir = charts.find((c) => c === `${chartName}-${String(inputs.version)}`);
      if (!chartDir) { failures.push(`Release ${String(inputs.name)}: no ../shared/charts/${chartName}-${String(inputs.version)}`); continue; }
      // ../shared carries only Chart.yaml and values.yaml of kube-prometheus-stack (no templates, no subcharts): its
      // value paths are checked against values.yaml in npm test; there is nothing here to template.
      if (!existsSync(join(SHARED_DIR, "charts", chartDir, "templates"))) {
        console.warn(`[not templated] chart ${chartDir} (release ${String(inputs.name)}): ../shared has no templates for it`);
        continue;
      }
      const values = (inputs.values ?? {}) as Obj;
      if (chartName === "yugabyte" && isObject(values.tls)) values.tls = { ...values.tls, rootCA: caB64 };
      const valuesFile = join(dir, `${stack}-${String(inputs.name)}.json`);
      writeFileSync(valuesFile, JSON.stringify(values));
      const ns = String(inputs.namespace ?? "default");
      const out = execFileSync(HELM, ["template", String(inputs.name), join(SHARED_DIR, "charts", chartDir), "--namespace", ns, "--values", valuesFile, "--kube-version", "1.34.12"], { encoding: "utf8", maxBuffer: 64 << 20 });
      // YAML 1.1 as Helm's and the API machinery's parser reads it (`defaultMode: 0755` is octal); a List is its items.
      const objects = parseAllDocuments(out, { version: "1.1" }).map((d) => d.toJS() as Obj | null)
        .flatMap((o) => (isObject(o) && o.kind === "List" && Array.isArray(o.items) ? (o.items as Obj[]) : [o]))
        .filter((o): o is Obj => isObject(o) && typeof o.kind === "string")
        .map((o): Obj => ({ ...o, metadata: { namespace: ns, ...((o.metadata ?? {}) as Obj) } }))
        .map((o) => (resources.get(`${String(o.apiVersion)}/${String(o.kind)}`)?.namespaced === false ? { ...o, metadata: { ...(o.metadata as Obj), namespace: undefined } } : o));
      for (const f of await dryRunAll(objects)) failures.push(`chart ${chartDir} (release ${String(inputs.name)}): ${f}`);
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it.skipIf(skipEngines)("an injected unknown field fails, naming the object, the field and the server's message", async () => {
    const deployment = (programRuns.get("local") ?? []).map(kubernetesObject).find((o) => o?.kind === "Deployment");
    expect(deployment).toBeDefined();
    const bad = JSON.parse(JSON.stringify(deployment)) as { spec: { template: { spec: { containers: Obj[] } } } } & Obj;
    bad.spec.template.spec.containers[0].imagePullPolcy = "Always";
    await apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: String((bad.metadata as Obj).namespace) } }, false);
    const failure = await apply(bad);
    expect(failure).toContain(`Deployment ${String((bad.metadata as Obj).namespace)}/${String((bad.metadata as Obj).name)}`);
    expect(failure).toContain("imagePullPolcy");
    expect(failure).toMatch(/field not declared in schema|unknown field/i);
  }, 120_000);
});
