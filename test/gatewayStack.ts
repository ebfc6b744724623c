/**
 * A committed stack planned with the ingest gateway on, as `npm run plan -- --set …` does it (README "Peak scaling"):
 * the `--set` arguments that switch the gateway on an EKS stack, and the stack's validated config with them applied.
 * Shared by the plan's tests and the README figure check.
 */
import { type AppConfig, parseConfig, rawConfigOf } from "../config";
import { configOverrides } from "../tools/configSet";
import { stackConfig, stackFileConfig } from "../tools/mockRun";

/** An image reference by digest: the plan never pulls it. */
export const EXAMPLE_GATEWAY_IMAGE = `111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway@sha256:${"a".repeat(64)}`;

/** What the gateway needs on an EKS stack: a token issuer, the ALB's certificate, an image by digest (README's command). */
export const GATEWAY_SETS: readonly string[] = [
  'ingest.jwt={"jwksUrl":"https://login.example.com/.well-known/jwks.json","issuer":"https://login.example.com/","audience":["watchpipe-player"]}',
  "bridge.certificateArn=arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-4000-8000-000000000000",
  `ingest.gateway.image=${EXAMPLE_GATEWAY_IMAGE}`,
];

/** A stack's validated config with `--set` arguments applied, as the plan reads it. */
export function stackConfigWith(stack: string, sets: readonly string[] = []): AppConfig {
  const raw = rawConfigOf(stackConfig(stack, configOverrides(stackFileConfig(stack), sets)));
  return { ...parseConfig(raw, stack), region: "us-east-1" } as AppConfig;
}
