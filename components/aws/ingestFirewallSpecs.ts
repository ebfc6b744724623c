/**
 * Pure builder for the regional WAFv2 web ACL in front of the ingest ALB (docs/ingest.md). Rules, cheapest first:
 *
 * 0. body larger than `maxBodyBytes` → block (bodies beyond what WAF can inspect count as larger);
 * 1. more than `rateLimitPerIp` requests from one client IP in the window → block that IP for the window;
 * 2. more than `rateLimitPerToken` requests carrying the same bearer token in the window → block (only with JWTs);
 * 3. the AWS managed common rule set (SQLi/XSS/LFI, bad bots, oversize headers/query strings).
 *
 * Anything no rule blocks is allowed: authentication is the ALB's JWT validation, not WAF's job.
 */
import type * as aws from "@pulumi/aws";
import { AWS_COMMON_RULE_SET, TOKEN_HEADER, WAF_RULE_NAMES, type WafSettings } from "../../contract/ingest";

type Rule = aws.types.input.wafv2.WebAclRule;

/** Every rule and the ACL itself publish CloudWatch metrics and sampled requests (what an alarm and an operator need). */
function visibility(metricName: string) {
  return { cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

const BLOCK = { block: {} };

export interface IngestWebAclArgs {
  readonly waf: WafSettings;
  /** True when the ALB validates JWTs: then a per-token rate rule is added (a token is one player). */
  readonly perTokenRate: boolean;
  /** Metric name prefix, e.g. the stack (`watchpipe-prod`). */
  readonly metricPrefix: string;
  readonly tags: Record<string, string>;
}

export function ingestWebAclRules(a: Pick<IngestWebAclArgs, "waf" | "perTokenRate">): Rule[] {
  const { waf } = a;
  const rules: Rule[] = [
    {
      name: WAF_RULE_NAMES.bodySize,
      priority: 0,
      action: BLOCK,
      statement: {
        sizeConstraintStatement: {
          comparisonOperator: "GT",
          size: waf.maxBodyBytes,
          // MATCH: a body longer than WAF inspects (8 KiB behind an ALB) is treated as too large, never waved through.
          fieldToMatch: { body: { oversizeHandling: "MATCH" } },
          textTransformations: [{ priority: 0, type: "NONE" }],
        },
      },
      visibilityConfig: visibility(WAF_RULE_NAMES.bodySize),
    },
    {
      name: WAF_RULE_NAMES.ratePerIp,
      priority: 1,
      action: BLOCK,
      statement: { rateBasedStatement: { aggregateKeyType: "IP", limit: waf.rateLimitPerIp, evaluationWindowSec: waf.rateWindowSec } },
      visibilityConfig: visibility(WAF_RULE_NAMES.ratePerIp),
    },
  ];
  if (a.perTokenRate) {
    rules.push({
      name: WAF_RULE_NAMES.ratePerToken,
      priority: 2,
      action: BLOCK,
      statement: {
        rateBasedStatement: {
          aggregateKeyType: "CUSTOM_KEYS",
          limit: waf.rateLimitPerToken,
          evaluationWindowSec: waf.rateWindowSec,
          // The whole Authorization header value: one key per token. Requests without it are not counted here; the
          // ALB rejects them anyway (401) after WAF.
          customKeys: [{ header: { name: TOKEN_HEADER, textTransformations: [{ priority: 0, type: "NONE" }] } }],
        },
      },
      visibilityConfig: visibility(WAF_RULE_NAMES.ratePerToken),
    });
  }
  rules.push({
    name: WAF_RULE_NAMES.commonRuleSet,
    priority: 3,
    // none: the group's own actions (block) apply; "count" here would turn the whole group into monitoring only.
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: AWS_COMMON_RULE_SET.vendorName, name: AWS_COMMON_RULE_SET.name } },
    visibilityConfig: visibility(WAF_RULE_NAMES.commonRuleSet),
  });
  return rules;
}

/** The WebAcl's arguments: REGIONAL scope (ALBs), default allow, the rules above. */
export function ingestWebAclSpec(a: IngestWebAclArgs) {
  return {
    scope: "REGIONAL",
    description: "watchpipe heartbeat ingest: body size, per-IP and per-token rate limits, AWS common rule set",
    defaultAction: { allow: {} },
    rules: ingestWebAclRules(a),
    visibilityConfig: visibility(`${a.metricPrefix}-ingest`),
    tags: a.tags,
  } satisfies aws.wafv2.WebAclArgs;
}
