/**
 * The gateway image a stack deploys (contract/gatewayImage.ts): a digest reference as configured, or, for an ECR
 * repository, the digest of the image tagged with this checkout's build-context hash. index.ts looks it up before
 * anything is registered, so a build that was never published fails the preview (or the up) before any resource
 * changes, and what is deployed is always pinned and always the build of the code being deployed.
 */
import * as aws from "@pulumi/aws";
import { gatewayImageTag, parseEcrRepository, pinnedGatewayImage } from "../../contract/gatewayImage";

/** The image reference to deploy for `watchpipe:ingest.gateway.image`. */
export async function pinGatewayImage(configured: string): Promise<string> {
  const repo = parseEcrRepository(configured);
  if (!repo) return configured;
  const tag = gatewayImageTag();
  const listed = await aws.ecr.getImages({ registryId: repo.registryId, repositoryName: repo.name, region: repo.region });
  return pinnedGatewayImage(repo, tag, listed.imageIds);
}

/** `config` with its gateway image pinned (unchanged without a gateway). */
export async function withPinnedGatewayImage<T extends { readonly ingest: { readonly gateway?: { readonly image: string } | undefined } }>(config: T): Promise<T> {
  const gateway = config.ingest.gateway;
  if (!gateway) return config;
  return { ...config, ingest: { ...config.ingest, gateway: { ...gateway, image: await pinGatewayImage(gateway.image) } } };
}
