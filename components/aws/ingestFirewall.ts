/**
 * The WAFv2 web ACL in front of an internet-facing ingest ALB (EKS stacks only: local has no load balancer; internal
 * ALBs get none, contract/ingest.ts ingestNeedsWebAcl). The Ingress attaches it with
 * `alb.ingress.kubernetes.io/wafv2-acl-arn`; the AWS Load Balancer Controller associates it with the ALB.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { WafSettings } from "../../contract/ingest";
import { ingestWebAclSpec } from "./ingestFirewallSpecs";

export interface IngestFirewallArgs {
  readonly waf: WafSettings;
  /** The ALB validates JWTs: add the per-token rate rule. */
  readonly perTokenRate: boolean;
  readonly metricPrefix: string;
  readonly tags: Record<string, string>;
}

export class IngestFirewall extends pulumi.ComponentResource {
  readonly webAclArn: pulumi.Output<string>;

  constructor(name: string, args: IngestFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:aws:IngestFirewall", name, {}, opts);
    const acl = new aws.wafv2.WebAcl(`${name}-acl`, ingestWebAclSpec(args), { parent: this });
    this.webAclArn = acl.arn;
    this.registerOutputs({ webAclArn: this.webAclArn });
  }
}
