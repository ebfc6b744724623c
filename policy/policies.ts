/**
 * The CrossGuard policies of the watchpipe pack, apart from the PolicyPack so vitest can call each one's
 * `validateResource` / `validateStack` with passing and failing inputs.
 *
 * They mirror the unit-test policies over the mocked program (the Kafka rules ARE the unit tests' functions, from
 * contract/kafkaPolicies.ts, so they are written once) AND check what mocks cannot see: `eks.Cluster` is a
 * remote component, so only a real preview shows its children (the `aws:eks/cluster:Cluster` encryption config, its
 * security groups and launch templates). Every policy is mandatory: a violation fails `pulumi preview` and `up`.
 *
 * Secrets decision: a Kubernetes `Secret` may carry `data`/`stringData` (the kubernetes provider stores both as
 * Pulumi secrets in state, and EKS envelope-encrypts Secrets with KMS). Everywhere else (env literals, ConfigMaps,
 * custom resource specs, Helm values) a credential must be a reference to a Secret. Values from config must be
 * `pulumi config set --secret` and flow only into Secrets; the pack cannot see secretness (props arrive unwrapped),
 * so that part is enforced by review and by the program's own tests.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import {
  aclWildcardProblems,
  bridgeProducerProblems,
  brokerDurabilityProblems,
  imageProblems,
  listenerProblems,
  type ResourceLike,
  topicDurabilityProblems,
} from "../contract/kafkaPolicies";
import {
  configMapKafkaProblems,
  configMapSecretProblems,
  eksEncryptionProblems,
  eksEndpointProblems,
  envSecretProblems,
  HELM_RELEASE_TYPE,
  isObject,
  k8sType,
  kafkaClientCrConfigProblems,
  kafkaClientCrProblems,
  kafkaPropertiesProblems,
  kmsRotationProblems,
  launchTemplateProblems,
  nestedImageProblems,
  nestedSecretProblems,
  openIngressProblems,
  releaseWaitProblems,
  type Props,
  STRIMZI_GROUP,
  workloadKafkaProblems,
} from "../contract/resourceChecks";
import { albIngressProblems, bridgeBesideGatewayProblems, gatewayConfigProblems, gatewayLimitProblems, gatewaySmokeIssuerProblems, ingressWafSourceProblems, isGatewayConfigMap, webAclProblems } from "../contract/ingestPolicies";
import { SUBJECT_HEADER } from "../contract/ingestGateway";
import { HEARTBEATS_HEADER } from "../contract/ingestLimits";
import { ISSUER_HEADER } from "../contract/smokeIssuer";
import { UnknownValueError } from "@pulumi/policy";
import { checkFailClosed } from "./unknowns";

/** The subset of ResourceValidationArgs the policies read (tests build it from recorded resources). */
export type ResourceArgs = Pick<ResourceValidationArgs, "type" | "props" | "urn" | "name">;
/** The subset of a stack resource the stack policies read. */
export type StackResource = Pick<PolicyResource, "type" | "props" | "urn" | "name" | "propertyDependencies">;
export type StackArgs = { readonly resources: readonly StackResource[] };

/** A resource policy whose single validation takes the narrow args above. */
export interface WatchpipeResourcePolicy extends ResourceValidationPolicy {
  validateResource: (args: ResourceArgs, report: ReportViolation) => void;
}
export interface WatchpipeStackPolicy extends StackValidationPolicy {
  validateStack: (args: StackArgs, report: ReportViolation) => void;
}

const MANDATORY = "mandatory" as const;

function reportAll(report: ReportViolation, subject: string, problems: string[]): void {
  for (const p of problems) report(`${subject}: ${p}`);
}

/** "Kafka kafka/events" style label for messages. */
function label(args: ResourceArgs): string {
  const meta = isObject(args.props.metadata) ? args.props.metadata : {};
  const kind = k8sType(args.type)?.kind ?? args.type;
  const name = typeof meta.name === "string" ? meta.name : args.name;
  return `${kind} ${typeof meta.namespace === "string" ? `${meta.namespace}/` : ""}${name}`;
}

/** A resource policy that applies `check` to Strimzi resources of the given kinds. */
function strimzi(kinds: string[], check: (kind: string, props: Props) => string[]) {
  return (args: ResourceArgs, report: ReportViolation) => {
    const t = k8sType(args.type);
    if (!t || t.group !== STRIMZI_GROUP || !kinds.includes(t.kind)) return;
    reportAll(report, label(args), check(t.kind, args.props));
  };
}

/** A resource policy from one of contract/kafkaPolicies.ts's checks (their messages already name the resource). */
function shared(check: (r: ResourceLike) => string[]) {
  return (args: ResourceArgs, report: ReportViolation) => {
    for (const problem of check({ type: args.type, name: args.name, inputs: args.props })) report(problem);
  };
}

export const kafkaTopicDurability: WatchpipeResourcePolicy = {
  name: "kafka-topic-durability",
  description: "Every KafkaTopic has replicas >= 3 and min.insync.replicas >= 2 set on the topic, and no unclean leader election.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    shared(topicDurabilityProblems)(args, report);
    // min.insync.replicas is the shared check's; the other topic properties (unclean election) are read here.
    strimzi(["KafkaTopic"], (_kind, props) => {
      const config = isObject(props.spec) && isObject(props.spec.config) ? props.spec.config : {};
      return kafkaPropertiesProblems(Object.fromEntries(Object.entries(config).filter(([k]) => k !== "min.insync.replicas")), "spec.config");
    })(args, report);
  },
};

export const kafkaBrokerDurability: WatchpipeResourcePolicy = {
  name: "kafka-broker-durability",
  description: "The Kafka cluster sets default RF >= 3, min.insync.replicas >= 2, internal-topic RFs, no unclean election, no topic auto-creation, and authorization.",
  enforcementLevel: MANDATORY,
  validateResource: shared(brokerDurabilityProblems),
};

export const kafkaListenersTlsAuth: WatchpipeResourcePolicy = {
  name: "kafka-listeners-tls-auth",
  description: "Every Kafka listener is TLS with SCRAM-SHA-512 (or mutual TLS) authentication; no plaintext listener.",
  enforcementLevel: MANDATORY,
  validateResource: shared(listenerProblems),
};

export const kafkaAclsLeastPrivilege: WatchpipeResourcePolicy = {
  name: "kafka-acls-least-privilege",
  description: "KafkaUser ACLs name their topics and groups; wildcards and prefixes only where components/kafka/kafkaAcls.ts allow-lists them.",
  enforcementLevel: MANDATORY,
  validateResource: shared(aclWildcardProblems),
};

export const kafkaClientsTlsAuth: WatchpipeResourcePolicy = {
  name: "kafka-clients-tls-auth",
  description: "Kafka Connect, Bridge and MirrorMaker 2 connect with TLS and authentication; no client property asks for PLAINTEXT.",
  enforcementLevel: MANDATORY,
  validateResource: strimzi(["KafkaConnect", "KafkaBridge", "KafkaMirrorMaker2"], kafkaClientCrProblems),
};

export const kafkaClientDurability: WatchpipeResourcePolicy = {
  name: "kafka-client-durability",
  description: "Kafka properties written anywhere (Strimzi client CRs, container env, ConfigMaps) keep RF >= 3, min ISR >= 2, acks=all, idempotence, SASL_SSL.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    const t = k8sType(args.type);
    if (!t) return;
    if (t.group === STRIMZI_GROUP && ["KafkaConnect", "KafkaBridge", "KafkaMirrorMaker2"].includes(t.kind)) {
      shared(bridgeProducerProblems)(args, report);
      reportAll(report, label(args), kafkaClientCrConfigProblems(t.kind, args.props));
    } else if (t.kind === "ConfigMap") {
      reportAll(report, label(args), configMapKafkaProblems(args.props));
    } else {
      reportAll(report, label(args), workloadKafkaProblems(t.kind, args.props));
    }
  },
};

export const imagesPinned: WatchpipeResourcePolicy = {
  name: "images-pinned",
  description: "Every image (workload containers, custom resource spec images, Helm values) is pinned to an exact tag or digest; never :latest or untagged.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type === HELM_RELEASE_TYPE) {
      reportAll(report, `Helm release ${args.name}`, nestedImageProblems(args.props.values, "values"));
      return;
    }
    const t = k8sType(args.type);
    if (!t) return;
    shared(imageProblems)(args, report);
    // Images elsewhere in custom resource specs (Strimzi spec.kafka.image, YugabyteDB, …); spec.image of Strimzi
    // kinds is the shared check's.
    if (t.group.includes(".") && !t.group.endsWith("k8s.io")) {
      reportAll(report, label(args), nestedImageProblems(args.props.spec, "spec", t.group === STRIMZI_GROUP));
    }
  },
};

export const noPlaintextSecrets: WatchpipeResourcePolicy = {
  name: "no-plaintext-secrets",
  description: "No credential as a literal in container env, ConfigMaps, custom resource specs or Helm values; Secrets hold them and everything else references them.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type === HELM_RELEASE_TYPE) {
      reportAll(report, `Helm release ${args.name}`, nestedSecretProblems(args.props.values, "values"));
      return;
    }
    const t = k8sType(args.type);
    if (!t || t.kind === "Secret") return;
    if (t.kind === "ConfigMap") {
      reportAll(report, label(args), configMapSecretProblems(args.props));
      return;
    }
    const problems = envSecretProblems(t.kind, args.props);
    if (t.group.includes(".") && !t.group.endsWith("k8s.io")) problems.push(...nestedSecretProblems(args.props.spec, "spec"));
    reportAll(report, label(args), problems);
  },
};

export const eksSecretsEncrypted: WatchpipeResourcePolicy = {
  name: "eks-secrets-encrypted",
  description: "EKS envelope-encrypts Kubernetes Secrets with a KMS key (the aws:eks/cluster:Cluster inside eks.Cluster, and the component's own argument).",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type === "aws:eks/cluster:Cluster") reportAll(report, `EKS cluster ${args.name}`, eksEncryptionProblems(args.props));
    if (args.type === "eks:index:Cluster" && !args.props.encryptionConfigKeyArn) {
      report(`eks.Cluster ${args.name}: encryptionConfigKeyArn is not set; expected the ARN of a KMS key with rotation on`);
    }
  },
};

export const eksEndpointRestricted: WatchpipeResourcePolicy = {
  name: "eks-endpoint-restricted",
  description: "A public EKS API endpoint is limited to listed CIDRs, never 0.0.0.0/0.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type === "aws:eks/cluster:Cluster") {
      const vpc = isObject(args.props.vpcConfig) ? args.props.vpcConfig : {};
      reportAll(report, `EKS cluster ${args.name}`, eksEndpointProblems(vpc.endpointPublicAccess, vpc.publicAccessCidrs));
    }
    if (args.type === "eks:index:Cluster") {
      reportAll(report, `eks.Cluster ${args.name}`, eksEndpointProblems(args.props.endpointPublicAccess, args.props.publicAccessCidrs));
    }
  },
};

export const kmsKeyRotation: WatchpipeResourcePolicy = {
  name: "kms-key-rotation",
  description: "Every symmetric KMS key rotates automatically.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type === "aws:kms/key:Key") reportAll(report, `KMS key ${args.name}`, kmsRotationProblems(args.props));
  },
};

export const nodesImdsv2: WatchpipeResourcePolicy = {
  name: "nodes-imdsv2-hop-limit-1",
  description: "Node launch templates require IMDSv2 with hop limit 1 and give no public IP; every managed node group uses a launch template.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") reportAll(report, `launch template ${args.name}`, launchTemplateProblems(args.props));
    if (args.type === "aws:eks/nodeGroup:NodeGroup" && !isObject(args.props.launchTemplate)) {
      report(`node group ${args.name}: no launchTemplate; expected one with IMDSv2 required and hop limit 1 (the EKS default allows IMDSv1 and 2 hops)`);
    }
  },
};

export const noOpenIngress: WatchpipeResourcePolicy = {
  name: "no-open-ingress",
  description: "No security group admits ingress from 0.0.0.0/0 or ::/0.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => reportAll(report, `security group ${args.name}`, openIngressProblems(args.type, args.props)),
};

export const nodesNoPublicIp: WatchpipeResourcePolicy = {
  name: "nodes-no-public-ip",
  description: "eks.Cluster never associates public IPs with nodes.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type === "eks:index:Cluster" && args.props.nodeAssociatePublicIpAddress !== false) {
      report(`eks.Cluster ${args.name}: nodeAssociatePublicIpAddress is ${JSON.stringify(args.props.nodeAssociatePublicIpAddress)}; expected false (nodes live in private subnets)`);
    }
  },
};

/**
 * Runs a check that must stay mandatory in preview: a read of a value unknown during preview would otherwise make
 * CrossGuard downgrade the policy to advisory (GUIDE.md, "Known traps"). The ingest checks guard their own reads; if
 * one slips through anyway, this reports it as a violation instead of letting it pass (fail closed).
 */
function reportOrFailClosed(subject: string, report: ReportViolation, check: () => string[]): void {
  let problems: string[];
  try {
    problems = check();
  } catch (e) {
    problems = [`could not be verified (${e instanceof Error ? e.message : String(e)}); keep the checked fields known during preview`];
  }
  reportAll(report, subject, problems);
}

export const ingestTokenValidationAndWaf: WatchpipeResourcePolicy = {
  name: "ingest-token-validation-and-waf",
  description: "An internet-facing ALB Ingress validates JWTs (https JWKS, issuer, audience), forwards only over HTTPS, and names a regional WAFv2 web ACL.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type !== "kubernetes:networking.k8s.io/v1:Ingress") return;
    reportOrFailClosed(label(args), report, () => albIngressProblems(args.type, args.props));
  },
};

export const ingestGatewayBindsIdentity: WatchpipeResourcePolicy = {
  name: "ingest-gateway-binds-identity",
  description: "The ingest gateway's config strips a client's subject header, verifies every token and copies its subject, keeps Camel on loopback, checks each heartbeat's user_id against the subject and produces with acks=all + idempotence over SASL_SSL.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (!isGatewayConfigMap(args.type, args.props)) return;
    reportOrFailClosed(`ConfigMap ${args.name}`, report, () => gatewayConfigProblems(args.props, SUBJECT_HEADER));
  },
};

export const ingestGatewayCountsHeartbeats: WatchpipeResourcePolicy = {
  name: "ingest-gateway-counts-heartbeats",
  description: "The ingest gateway's Envoy counts each request's heartbeats after the token check and charges them to a budget per token subject and per client address; Camel refuses records the count missed.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (!isGatewayConfigMap(args.type, args.props)) return;
    reportOrFailClosed(`ConfigMap ${args.name}`, report, () => gatewayLimitProblems(args.props, SUBJECT_HEADER, HEARTBEATS_HEADER));
  },
};

export const ingestGatewayScopesSmokeIssuer: WatchpipeResourcePolicy = {
  name: "ingest-gateway-scopes-smoke-issuer",
  description: "When the ingest gateway trusts a token issuer beside the players' (the deploy smoke issuer), Envoy strips a client's issuer header and copies every provider's verified iss into it, and Camel refuses any request not from the players' issuer whose subject lacks the smoke prefix.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (!isGatewayConfigMap(args.type, args.props)) return;
    reportOrFailClosed(`ConfigMap ${args.name}`, report, () => gatewaySmokeIssuerProblems(args.props, SUBJECT_HEADER, ISSUER_HEADER));
  },
};

export const ingestWafRules: WatchpipeResourcePolicy = {
  name: "ingest-waf-rules",
  description: "Every WAFv2 web ACL is regional and blocks oversize bodies (oversize handling MATCH), floods per client IP, and runs the AWS common rule set.",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type !== "aws:wafv2/webAcl:WebAcl") return;
    reportOrFailClosed(`WAFv2 web ACL ${args.name}`, report, () => webAclProblems(args.type, args.props));
  },
};

const SUBNET = "aws:ec2/subnet:Subnet";
const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation";
const INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";

/** Resources `r.props[prop]` was computed from (works in preview, where ids are still unknown). */
function sources(r: StackResource, prop: string, byUrn: Map<string, StackResource>): StackResource[] {
  const deps = r.propertyDependencies[prop] as unknown as readonly (StackResource | string)[] | undefined;
  // The engine hands PolicyResources; the mock harness hands URNs. Accept both.
  return (deps ?? []).map((d) => (typeof d === "string" ? byUrn.get(d) : d)).filter((d): d is StackResource => d !== undefined);
}

/**
 * Why a subnet is public, or undefined: it launches with public IPs, or its route table routes to an internet
 * gateway (through a RouteTable's inline routes).
 */
function publicSubnetReason(subnet: StackResource, resources: readonly StackResource[], byUrn: Map<string, StackResource>): string | undefined {
  if (subnet.props.mapPublicIpOnLaunch === true) return "it maps public IPs on launch";
  for (const association of resources.filter((r) => r.type === ASSOCIATION)) {
    if (!sources(association, "subnetId", byUrn).some((s) => s.urn === subnet.urn)) continue;
    for (const table of sources(association, "routeTableId", byUrn).filter((t) => t.type === ROUTE_TABLE)) {
      if (sources(table, "routes", byUrn).some((g) => g.type === INTERNET_GATEWAY)) return `its route table ${table.name} routes to an internet gateway`;
    }
  }
  return undefined;
}

export const nodeGroupsInPrivateSubnets: WatchpipeStackPolicy = {
  name: "node-groups-in-private-subnets",
  description: "Every managed node group runs only in subnets of this stack that have no route to an internet gateway and no public IPs.",
  enforcementLevel: MANDATORY,
  validateStack: (args, report) => {
    const byUrn = new Map(args.resources.map((r) => [r.urn, r]));
    for (const group of args.resources.filter((r) => r.type === NODE_GROUP)) {
      const subnets = sources(group, "subnetIds", byUrn).filter((s) => s.type === SUBNET);
      if (subnets.length === 0) {
        report(`node group ${group.name}: its subnetIds do not come from subnets created in this stack, so they cannot be proven private; create the subnets in the program (components/aws/network.ts) or review and exempt this stack`, group.urn);
        continue;
      }
      for (const subnet of subnets) {
        const reason = publicSubnetReason(subnet, args.resources, byUrn);
        if (reason) report(`node group ${group.name}: subnet ${subnet.name} is public (${reason}); expected private subnets only`, group.urn);
      }
    }
  },
};

export const ingestWafFromStack: WatchpipeStackPolicy = {
  name: "ingest-waf-from-stack",
  description: "An internet-facing ALB Ingress whose web ACL ARN is unknown in preview takes it from a WAFv2 web ACL of this stack (whose rules ingest-waf-rules checks).",
  enforcementLevel: MANDATORY,
  validateStack: (args, report) => {
    const byUrn = new Map(args.resources.map((r) => [r.urn, r]));
    for (const r of args.resources.filter((x) => x.type === "kubernetes:networking.k8s.io/v1:Ingress")) {
      let problems: string[];
      try {
        problems = ingressWafSourceProblems({ type: r.type, urn: r.urn, name: r.name, props: r.props, metadataSources: sources(r, "metadata", byUrn) });
      } catch (e) {
        problems = [`could not be verified (${e instanceof Error ? e.message : String(e)})`];
      }
      for (const p of problems) report(`Ingress ${r.name}: ${p}`, r.urn);
    }
  },
};

/**
 * A mandatory resource policy that never skips in preview: unknown inputs it reads make it fail closed
 * (policy/unknowns.ts); unknown inputs it does not read leave its verdict as it is.
 */
export function failClosed(policy: WatchpipeResourcePolicy): WatchpipeResourcePolicy {
  const inner = policy.validateResource;
  return {
    ...policy,
    validateResource: (args, report) => {
      const subject = `${args.type} ${args.name}`;
      for (const message of checkFailClosed(policy.name, subject, args.props, (props, rep) => inner({ type: args.type, name: args.name, urn: args.urn, props }, rep))) {
        report(message);
      }
    },
  };
}

/** The same for a stack policy: an unknown it reads is a violation, never an advisory. */
export function failClosedStack(policy: WatchpipeStackPolicy): WatchpipeStackPolicy {
  const inner = policy.validateStack;
  return {
    ...policy,
    validateStack: (args, report) => {
      try {
        inner(args, report);
      } catch (e) {
        if (!(e instanceof UnknownValueError)) throw e;
        report(`${policy.name} read a value unknown during preview (${String((e as Error).message)}); a mandatory policy fails closed rather than skip. Keep that field known.`);
      }
    },
  };
}

export const helmReleaseBoundedWait: WatchpipeResourcePolicy = {
  name: "helm-release-bounded-wait",
  description: "Every Helm release that waits for its resources sets its own timeout (the provider's 300 s default fails on a cold node or slow registry).",
  enforcementLevel: MANDATORY,
  validateResource: (args, report) => {
    if (args.type !== HELM_RELEASE_TYPE) return;
    reportAll(report, `Helm release ${args.name}`, releaseWaitProblems(args.props));
  },
};

export const resourcePolicies: WatchpipeResourcePolicy[] = ([
  kafkaTopicDurability,
  kafkaBrokerDurability,
  kafkaListenersTlsAuth,
  kafkaAclsLeastPrivilege,
  kafkaClientsTlsAuth,
  kafkaClientDurability,
  imagesPinned,
  noPlaintextSecrets,
  helmReleaseBoundedWait,
  eksSecretsEncrypted,
  eksEndpointRestricted,
  kmsKeyRotation,
  nodesImdsv2,
  noOpenIngress,
  nodesNoPublicIp,
  ingestTokenValidationAndWaf,
  ingestGatewayBindsIdentity,
  ingestGatewayCountsHeartbeats,
  ingestGatewayScopesSmokeIssuer,
  ingestWafRules,
] satisfies WatchpipeResourcePolicy[]).map(failClosed);

export const ingestSingleWritePath: WatchpipeStackPolicy = {
  name: "ingest-single-write-path",
  description: "With the ingest gateway deployed, no Kafka Bridge beside it: every HTTP write into heartbeats_raw binds the token's subject.",
  enforcementLevel: MANDATORY,
  validateStack: (args, report) => {
    const urns = new Map(args.resources.map((r) => [r.name, r.urn]));
    for (const p of bridgeBesideGatewayProblems(args.resources)) report(`KafkaBridge ${p.name}: ${p.problem}`, urns.get(p.name));
  },
};

export const stackPolicies: WatchpipeStackPolicy[] = [nodeGroupsInPrivateSubnets, ingestWafFromStack, ingestSingleWritePath].map(failClosedStack);

/** Every policy of the pack, in the order the PolicyPack lists them. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [...resourcePolicies, ...stackPolicies];

/** Run every resource policy over one resource; the violation messages (tests, render tool). */
export function violationsOf(args: ResourceArgs): string[] {
  const found: string[] = [];
  for (const p of resourcePolicies) p.validateResource(args, (message) => found.push(`[${p.name}] ${message}`));
  return found;
}

/** Run every stack policy over a set of resources. */
export function stackViolationsOf(args: StackArgs): string[] {
  const found: string[] = [];
  for (const p of stackPolicies) p.validateStack(args, (message) => found.push(`[${p.name}] ${message}`));
  return found;
}
