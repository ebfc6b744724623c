/**
 * `npm run -s gateway-image-tag [-- --stack <name>]`: the tag of the ingest gateway image this checkout needs
 * (contract/gatewayImage.ts: the hash of images/ingest-gateway), and with --stack, the ECR repository that stack
 * deploys it from. The ingest-image workflow builds and pushes under that tag; the program deploys its digest.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { GATEWAY_IMAGE_CONTEXT, gatewayImageTag, parseEcrRepository } from "../contract/gatewayImage";
import { EXIT_CODES_HELP, UsageError } from "./exitCodes";
import { parseCommandLine, runTool } from "./cli";

const HELP = `Usage: npm run -s gateway-image-tag [-- --stack <name>]

Prints the tag of the ingest gateway image this checkout needs: a hash of every file in ${GATEWAY_IMAGE_CONTEXT}.

  --stack <name>   print two lines for a workflow's GITHUB_OUTPUT instead: tag=<tag> and repository=<uri>, the ECR
                   repository Pulumi.<name>.yaml names in watchpipe:ingest.gateway.image (empty when the stack has no
                   gateway or pins a digest itself: then there is nothing to build for it)

${EXIT_CODES_HELP}`;

/** The ECR repository a stack file deploys the gateway from, or "" (no gateway, or a digest reference). */
export function stackGatewayRepository(root: string, stack: string): string {
  const file = join(root, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) throw new UsageError(`--stack ${stack}: no ${file}; expected one of the stacks' Pulumi.<name>.yaml`);
  const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, { gateway?: { image?: unknown } } | undefined> } | null;
  const image = doc?.config?.["watchpipe:ingest"]?.gateway?.image;
  return typeof image === "string" && parseEcrRepository(image) ? image : "";
}

runTool("gateway-image-tag", () => {
  const args = parseCommandLine({ name: "gateway-image-tag", help: HELP, options: { stack: { type: "string" } } }, process.argv.slice(2));
  if (args === undefined) return 0;
  const tag = gatewayImageTag();
  const stack = args.values.stack;
  process.stdout.write(stack === undefined ? `${tag}\n` : `tag=${tag}\nrepository=${stackGatewayRepository(join(__dirname, ".."), stack)}\n`);
  return 0;
});
