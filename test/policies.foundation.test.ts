/**
 * Foundation policies over the whole program under mocks, per stack: network layout, EKS hardening, node placement.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { PROGRAM_RUN_TIMEOUT_MS, ProgramError, runProgram, type ProgramRun, type RecordedResource } from "./harness";

const SUBNET = "aws:ec2/subnet:Subnet";
const NAT = "aws:ec2/natGateway:NatGateway";
const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const EKS = "eks:index:Cluster";

/** AWS resource types that take no `tags` input. */
const UNTAGGABLE = new Set([
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:kms/alias:Alias",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:ecr/repositoryPolicy:RepositoryPolicy",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
]);

const byId = (run: ProgramRun, type: string) => new Map(run.ofType(type).map((r) => [`${r.name}-id`, r]));
const subnetsOfTier = (run: ProgramRun, tier: string) => run.ofType(SUBNET).filter((s) => s.inputs.tags["watchpipe.io/tier"] === tier);

function privateRouteTableOf(run: ProgramRun, subnet: RecordedResource): RecordedResource {
  const association = run.ofType(ASSOCIATION).find((a) => a.inputs.subnetId === `${subnet.name}-id`);
  if (!association) throw new Error(`subnet ${subnet.name} has no route table association`);
  const table = byId(run, ROUTE_TABLE).get(association.inputs.routeTableId);
  if (!table) throw new Error(`association ${association.name} points at an unknown route table`);
  return table;
}

describe.each(["prod", "dev"])("%s stack on EKS", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(stack);
    console.log(`whole program under mocks, ${stack}: ${run.resources.length} resources in ${run.elapsedMs.toFixed(0)} ms`);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("spans three AZs with one public and one private subnet in each", () => {
    for (const tier of ["public", "private"]) {
      const zones = subnetsOfTier(run, tier).map((s) => s.inputs.availabilityZone);
      expect(zones.sort()).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    }
  });

  it("tags subnets for internet-facing and internal load balancers", () => {
    for (const s of subnetsOfTier(run, "public")) expect(s.inputs.tags["kubernetes.io/role/elb"]).toBe("1");
    for (const s of subnetsOfTier(run, "private")) expect(s.inputs.tags["kubernetes.io/role/internal-elb"]).toBe("1");
  });

  it("launches nothing with a public IP from any subnet", () => {
    for (const s of run.ofType(SUBNET)) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
  });

  it("no node group in a public subnet", () => {
    const privateIds = new Set(subnetsOfTier(run, "private").map((s) => `${s.name}-id`));
    const groups = run.ofType(NODE_GROUP);
    expect(groups.length).toBe(3);
    for (const group of groups) {
      for (const id of group.inputs.subnetIds) expect(privateIds.has(id), `${group.name} uses subnet ${id}`).toBe(true);
    }
    expect(run.one(EKS).inputs.nodeAssociatePublicIpAddress).toBe(false);
  });

  it("runs one managed node group per AZ, each pinned to a single private subnet", () => {
    const subnetIds = run.ofType(NODE_GROUP).map((g) => g.inputs.subnetIds);
    for (const ids of subnetIds) expect(ids).toHaveLength(1);
    expect(new Set(subnetIds.flat()).size).toBe(3);
  });

  it("IMDSv2 required with hop limit 1 on every node", () => {
    const templates = byId(run, "aws:ec2/launchTemplate:LaunchTemplate");
    for (const group of run.ofType(NODE_GROUP)) {
      const template = templates.get(group.inputs.launchTemplate.id);
      expect(template, `${group.name} must use our launch template`).toBeDefined();
      expect(template?.inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect(template?.inputs.blockDeviceMappings[0].ebs.encrypted).toBe("true");
    }
  });

  it("EKS secrets are KMS-encrypted with a rotating key", () => {
    const key = run.one("aws:kms/key:Key", "cluster-secrets");
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(run.one(EKS).inputs.encryptionConfigKeyArn).toBe(`arn:aws:kms:us-east-1:111122223333:key/key-${key.name}`);
  });

  it("authenticates through the EKS API with an admin access entry for the configured role", () => {
    const eks = run.one(EKS).inputs;
    expect(eks.authenticationMode).toBe("API");
    expect(eks.accessEntries.admin.principalArn).toBe("arn:aws:iam::111122223333:role/platform-admin");
    expect(eks.accessEntries.admin.accessPolicies.clusterAdmin.policyArn).toBe("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
    expect(eks.createOidcProvider).toBe(true);
  });

  it("restricts the public API endpoint to configured CIDRs and keeps private access", () => {
    const eks = run.one(EKS).inputs;
    expect(eks.endpointPrivateAccess).toBe(true);
    expect(eks.publicAccessCidrs).toEqual(["203.0.113.0/24"]);
    expect(eks.publicAccessCidrs).not.toContain("0.0.0.0/0");
  });

  it("ships all control-plane logs and pins the Kubernetes version", () => {
    const eks = run.one(EKS).inputs;
    expect(eks.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    expect(eks.version).toBe("1.34");
    expect(eks.skipDefaultNodeGroup).toBe(true);
  });

  it("runs the EBS CSI driver with its own IRSA role bound to its service account", () => {
    const addon = run.one("aws:eks/addon:Addon");
    expect(addon.inputs.addonName).toBe("aws-ebs-csi-driver");
    expect(addon.inputs.addonVersion).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
    const role = run.ofType("aws:iam/role:Role").find((r) => addon.inputs.serviceAccountRoleArn.endsWith(`/${r.name}`));
    const trust = JSON.parse(role?.inputs.assumeRolePolicy);
    const condition = trust.Statement[0].Condition.StringEquals;
    expect(Object.entries(condition)).toContainEqual([
      "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub",
      "system:serviceaccount:kube-system:ebs-csi-controller-sa",
    ]);
  });

  it("makes an encrypted, expandable gp3 StorageClass on ebs.csi.aws.com the default", () => {
    const sc = run.one("kubernetes:storage.k8s.io/v1:StorageClass").inputs;
    expect(sc.provisioner).toBe("ebs.csi.aws.com");
    expect(sc.parameters).toMatchObject({ type: "gp3", encrypted: "true" });
    expect(sc.volumeBindingMode).toBe("WaitForFirstConsumer");
    expect(sc.allowVolumeExpansion).toBe(true);
    expect(sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"]).toBe("true");
    // Provisioned performance from cluster.volume*: prod above gp3's baseline (ksqlDB needs it), dev at it.
    expect(sc.parameters).toMatchObject(stack === "prod" ? { throughput: "300", iops: "6000" } : { throughput: "125", iops: "3000" });
  });

  it("records VPC flow logs for all traffic", () => {
    const flowLog = run.one("aws:ec2/flowLog:FlowLog").inputs;
    expect(flowLog.trafficType).toBe("ALL");
    expect(flowLog.vpcId).toBe("network-vpc-id");
  });

  it("tags every taggable AWS resource with stack, project and owner", () => {
    const aws = run.resources.filter((r) => r.custom && (r.type.startsWith("aws:") || r.type.startsWith("eks:")) && !UNTAGGABLE.has(r.type));
    expect(aws.length).toBeGreaterThan(20);
    for (const r of aws) {
      expect(r.inputs.tags, `${r.type} ${r.name}`).toMatchObject({ stack, project: "watchpipe", owner: "platform-team" });
    }
  });

  it("exports the VPC id, the cluster name, the kubeconfig (as a secret) and the context", () => {
    expect(run.outputs.vpcId).toBe("network-vpc-id");
    expect(run.outputs.clusterName).toBe("cluster-eks-cluster");
    expect(JSON.parse(run.outputs.kubeconfig as string).kind).toBe("Config");
    expect(run.outputs.kubeContext).toBe("aws");
  });

  it("makes no data-source call other than the AZ list, the EBS CSI add-on version and the gateway image's digest", () => {
    expect(new Set(run.invokes)).toEqual(new Set([
      "aws:index/getAvailabilityZones:getAvailabilityZones",
      "aws:eks/getAddonVersion:getAddonVersion",
      "aws:ecr/getImages:getImages",
    ]));
  });
});

describe("NAT placement", () => {
  it("every NAT route stays in its AZ in prod", async () => {
    const run = await runProgram("prod");
    const nats = byId(run, NAT);
    const subnets = byId(run, SUBNET);
    expect(run.ofType(NAT)).toHaveLength(3);
    for (const privateSubnet of subnetsOfTier(run, "private")) {
      const table = privateRouteTableOf(run, privateSubnet);
      const nat = nats.get(table.inputs.routes[0].natGatewayId);
      const natSubnet = subnets.get(nat?.inputs.subnetId);
      expect(natSubnet?.inputs.availabilityZone, `${privateSubnet.name} egress`).toBe(privateSubnet.inputs.availabilityZone);
      expect(natSubnet?.inputs.tags["watchpipe.io/tier"]).toBe("public");
    }
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("dev shares one NAT gateway across its AZs", async () => {
    const run = await runProgram("dev");
    expect(run.ofType(NAT)).toHaveLength(1);
    const natId = `${run.one(NAT).name}-id`;
    for (const privateSubnet of subnetsOfTier(run, "private")) {
      expect(privateRouteTableOf(run, privateSubnet).inputs.routes[0].natGatewayId).toBe(natId);
    }
  }, PROGRAM_RUN_TIMEOUT_MS);
});

describe("local stack on an existing cluster", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram("local");
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("creates no AWS resource and makes no AWS call", () => {
    expect(run.resources.filter((r) => r.type.startsWith("aws:") || r.type.startsWith("eks:"))).toEqual([]);
    expect(run.invokes.filter((t) => t.startsWith("aws:"))).toEqual([]);
    expect(run.outputs.vpcId).toBeUndefined();
  });

  it("deploys through a provider on the current kubeconfig context", () => {
    const provider = run.one("pulumi:providers:kubernetes");
    expect(provider.inputs.kubeconfig).toBeUndefined();
    expect(provider.inputs.context).toBeUndefined();
  });

  it("uses the configured kubeconfig context when one is set", async () => {
    const withContext = await runProgram("local", { "watchpipe:cluster": { mode: "existing", storageClass: "local-path", kubeconfigContext: "k3d-watchpipe" } });
    expect(withContext.one("pulumi:providers:kubernetes").inputs.context).toBe("k3d-watchpipe");
    expect(withContext.outputs.kubeContext).toBe("k3d-watchpipe");
  }, PROGRAM_RUN_TIMEOUT_MS);
});

describe("invalid config fails before any resource is registered", () => {
  it.each([
    ["prod", { "watchpipe:network": { cidr: "10.40.0.0/16", azCount: 2, natGatewayPerAz: true } }, /watchpipe:network.azCount: prod must span exactly 3 availability zones/],
    ["dev", { "watchpipe:kafka": { nodePools: "dual-role", replicationFactor: 4, minInsyncReplicas: 2 } }, /watchpipe:kafka.replicationFactor: cannot exceed kafka.brokers/],
    ["local", { "watchpipe:cluster": { mode: "existing", storageClass: "" } }, /watchpipe:cluster.storageClass/],
  ])("%s with %j registers nothing", async (stack, overrides, message) => {
    const error = await runProgram(stack, overrides).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(ProgramError);
    expect((error as ProgramError).message).toMatch(message);
    expect((error as ProgramError).resources).toEqual([]);
  }, PROGRAM_RUN_TIMEOUT_MS);
});
