/**
 * CRDs a chart installs through a subchart that ../shared does not carry. kube-prometheus-stack ships its Prometheus
 * Operator CRDs in a `crds` subchart, so `helm template` of the Chart.yaml/values.yaml in ../shared cannot expand it;
 * the CRDs themselves sit in ../shared/crds/prometheus-operator-<operator version> (the operator version is the
 * chart's appVersion, pinned in operators/monitoringValues.ts). With them, a doc that deletes or inspects those CRDs
 * is checked against the real names instead of an exception list.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { HELM_RELEASE_TYPE, isObject } from "../../contract/resourceChecks";
import { KUBE_PROMETHEUS_STACK_CHART, KUBE_PROMETHEUS_STACK_VERSION, PROMETHEUS_OPERATOR_IMAGE_TAG } from "../../operators/monitoringValues";
import { objectsOfTemplate } from "../../tools/helmExpand";
import type { RecordedResource } from "../../tools/mockRun";
import type { RenderedObject } from "../../tools/renderObjects";

/** ../shared/crds folder of the Prometheus Operator version kube-prometheus-stack pins ("v0.93.1" → "prometheus-operator-0.93.1"). */
export const PROMETHEUS_OPERATOR_CRDS_DIR = `prometheus-operator-${PROMETHEUS_OPERATOR_IMAGE_TAG.replace(/^v/, "")}`;

/**
 * The CRD objects the kube-prometheus-stack releases among `resources` install (none when a release sets
 * `crds.enabled: false` or `skipCrds`), read from `crdsDir` (../shared/crds). Throws when the folder is missing, so
 * a version bump without its CRDs fails loudly.
 */
export function subchartCrds(resources: readonly RecordedResource[], crdsDir: string): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const r of resources.filter((x) => x.type === HELM_RELEASE_TYPE)) {
    const inputs = r.inputs as Record<string, unknown>;
    if (basename(String(inputs.chart ?? "")) !== KUBE_PROMETHEUS_STACK_CHART || String(inputs.version) !== KUBE_PROMETHEUS_STACK_VERSION) continue;
    const values = isObject(inputs.values) ? inputs.values : {};
    if (inputs.skipCrds === true || (isObject(values.crds) && values.crds.enabled === false)) continue;
    const dir = join(crdsDir, PROMETHEUS_OPERATOR_CRDS_DIR);
    if (!existsSync(dir)) throw new Error(`kube-prometheus-stack ${KUBE_PROMETHEUS_STACK_VERSION} installs the Prometheus Operator CRDs, expected in ${dir}; it is missing (update ../shared/crds with the chart).`);
    const release = String(inputs.name ?? r.name);
    const namespace = String(inputs.namespace ?? "default");
    for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
      out.push(...objectsOfTemplate(readFileSync(join(dir, f), "utf8"), release, namespace, r.urn));
    }
  }
  return out;
}
