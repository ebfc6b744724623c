/**
 * How long `pulumi up` waits for what it deploys to become ready (`watchpipe:deploy`). By default every Helm release
 * waits for its pods (each release's own timeout, sized from what it starts) and the provider waits for each
 * Deployment, StatefulSet, Job, Service and Ingress the program creates. A team deploying to a cluster that cannot run
 * the pods yet (a bare API server, nodes still joining) or that gates readiness elsewhere turns the waits off or
 * bounds them.
 *
 * Pure: config.ts validates with these bounds, components and operators apply them.
 */

/** The provider's per-object switch (@pulumi/kubernetes ≥ 4.x): "true" creates the object without awaiting it. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/** Waiting is the default: dependants (Strimzi CRs, the schema Job, the sink) then start against running servers. */
export const DEFAULT_WAIT_FOR_READY = true;
/** Below a minute not even an operator pod on a warm node gets pulled and started: a shorter bound only fails. */
export const MIN_RELEASE_TIMEOUT_SEC = 60;
/** Two hours: beyond that a release is stuck, not slow (the longest default, a YugabyteDB universe, is 30 min). */
export const MAX_RELEASE_TIMEOUT_SEC = 7200;

/** `watchpipe:deploy`. */
export interface DeploySettings {
  /** false: Helm releases install without waiting (`skipAwait`), objects carry {@link SKIP_AWAIT_ANNOTATION}. */
  readonly waitForReady: boolean;
  /** When set, every Helm release's timeout (its wait and its hooks) instead of the release's own default. */
  readonly releaseTimeoutSec?: number | undefined;
}

/** The wait settings of one Helm release: its own default timeout unless the stack sets one, and the skip switch. */
export function releaseWait(defaultTimeoutSec: number, deploy: DeploySettings | undefined): { timeout: number; skipAwait: boolean } {
  return {
    timeout: deploy?.releaseTimeoutSec ?? defaultTimeoutSec,
    skipAwait: deploy ? !deploy.waitForReady : !DEFAULT_WAIT_FOR_READY,
  };
}

/** Annotations an awaited object (Deployment, StatefulSet, Job, Service, Ingress) carries: none while waiting. */
export function awaitAnnotations(deploy: DeploySettings | undefined): Record<string, string> {
  return deploy && !deploy.waitForReady ? { [SKIP_AWAIT_ANNOTATION]: "true" } : {};
}

/**
 * `metadata` with {@link awaitAnnotations} merged into its annotations (the same object while waiting). Typed by
 * the caller's metadata (annotation values may be Pulumi inputs there); only an annotations key is added.
 */
export function withAwait<M extends object>(metadata: M, deploy: DeploySettings | undefined): M {
  const extra = awaitAnnotations(deploy);
  if (Object.keys(extra).length === 0) return metadata;
  const own = (metadata as { readonly annotations?: Readonly<Record<string, unknown>> }).annotations;
  return { ...metadata, annotations: { ...own, ...extra } };
}
