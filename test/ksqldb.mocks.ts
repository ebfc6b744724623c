/**
 * Helpers for the Schema Registry / ksqlDB / migrations / ticker component tests: the stack's real config
 * (Pulumi.<stack>.yaml through config.ts) and a run of just these components under Pulumi mocks, recording every
 * resource. The whole-program runs (test/harness.ts runProgram) cover the wiring in index.ts; these cover the
 * components on their own, per stack, without needing the Kafka platform component.
 */
import { spawnSync } from "node:child_process";
import * as k8s from "@pulumi/kubernetes";
import { describe, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { type AppConfig, CONFIG_NAMESPACE, parseConfig } from "../config";
import { stackConfig } from "./harness";

export const STACKS = ["dev", "prod", "local"] as const;

/** The validated config of a stack, read the way loadConfig reads it. */
export function stackAppConfig(stack: string): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(stackConfig(stack))) {
    if (!key.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    try {
      raw[key.slice(CONFIG_NAMESPACE.length + 1)] = JSON.parse(text);
    } catch {
      raw[key.slice(CONFIG_NAMESPACE.length + 1)] = text;
    }
  }
  return parseConfig(raw, stack);
}

export interface Recorded {
  readonly type: string;
  readonly name: string;
  /** Inputs as the provider would receive them (Outputs resolved), plain JSON. */
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- arbitrary provider inputs
  readonly protect: boolean;
}

export interface ComponentRun {
  readonly resources: Recorded[];
  ofType(type: string): Recorded[];
  one(type: string, name?: string): Recorded;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getProtect(): boolean;
}

/** Run `build(provider)` under mocks; resolves once every registration has been answered. */
export async function runComponents(build: (provider: k8s.Provider) => void): Promise<ComponentRun> {
  const resources: Recorded[] = [];
  const protect = new Map<string, boolean>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, protect: protect.get(`${args.type}::${args.name}`) ?? false });
        return { id: `${args.inputs?.metadata?.namespace ?? ""}/${args.name}`, state: args.inputs };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected invoke ${args.token}: these components make no data-source calls`);
      },
    },
    "watchpipe",
    "test",
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, cb: unknown) => {
    protect.set(`${req.getType()}::${req.getName()}`, req.getProtect());
    return register(req, cb);
  };
  build(new k8s.Provider("k8s", {}));
  await pulumi.runtime.disconnect();
  return {
    resources,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type, name) {
      const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
      if (found.length !== 1) throw new Error(`expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
      return found[0];
    },
  };
}

/** Every container (init and main) of a workload's recorded inputs (Deployment, StatefulSet or Job). */
export function containersOf(r: Recorded): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any -- recorded provider inputs
  const pod = r.inputs.spec.template.spec;
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/**
 * A describe block that runs shell scripts with the real `curl` (as the curl image does). Without curl on PATH it
 * is skipped with a message saying why; under CI=true it fails instead.
 */
export function describeWithCurl(name: string, body: () => void): void {
  const found = spawnSync("curl", ["--version"], { encoding: "utf8" });
  if (found.status === 0) {
    describe(name, body);
    return;
  }
  const reason = "curl is not on PATH (install it, e.g. apt-get install curl)";
  if (process.env.CI === "true") {
    describe(name, () => {
      it("has curl", () => {
        throw new Error(`${name}: ${reason}; CI=true requires it.`);
      });
    });
    return;
  }
  console.warn(`[skipped] ${name}: ${reason}.`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}
