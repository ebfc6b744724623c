import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { subnetLayout } from "./subnets";

export interface NetworkArgs {
  readonly cidr: string;
  readonly azCount: number;
  /** One NAT gateway per AZ (prod: a zone outage leaves the others' egress intact) or a single shared one (dev). */
  readonly natGatewayPerAz: boolean;
  readonly flowLogRetentionDays: number;
  /** Tags put on every resource (stack, project, owner). */
  readonly tags: Record<string, string>;
}

/**
 * A VPC over `azCount` AZs: a public and a private subnet per AZ, an internet gateway, NAT gateways, per-AZ private
 * route tables, the subnet tags EKS load balancers look for, and VPC flow logs to CloudWatch.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly availabilityZones: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:network:Network", name, {}, opts);
    const self = { parent: this };
    const tags = (resource: string, extra: Record<string, string> = {}) => ({ ...args.tags, Name: `${name}-${resource}`, ...extra });
    const layout = subnetLayout(args.cidr, args.azCount);

    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, self).names.apply((names) => {
      if (names.length < args.azCount) {
        throw new Error(`network.azCount is ${args.azCount} but the region offers only ${names.length} AZs (${names.join(", ")}); lower watchpipe:network.azCount.`);
      }
      return names.slice(0, args.azCount);
    });
    this.availabilityZones = layout.private.map((_, i) => zones.apply((z) => z[i]));

    const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
      cidrBlock: args.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: tags("vpc"),
    }, self);
    this.vpcId = vpc.id;

    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags("igw") }, self);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: tags("public"),
    }, self);

    const publicSubnets = layout.public.map((cidrBlock, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-public-${i}`, {
        vpcId: vpc.id,
        cidrBlock,
        availabilityZone: this.availabilityZones[i],
        // Nothing launched here gets a public IP by default: only NAT gateways (EIPs) and load balancers live here.
        mapPublicIpOnLaunch: false,
        tags: tags(`public-${i}`, { "kubernetes.io/role/elb": "1", "watchpipe.io/tier": "public" }),
      }, self);
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, self);
      return subnet;
    });
    this.publicSubnetIds = publicSubnets.map((s) => s.id);

    const natCount = args.natGatewayPerAz ? args.azCount : 1;
    const nats = publicSubnets.slice(0, natCount).map((subnet, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: tags(`nat-${i}`) }, self);
      return new aws.ec2.NatGateway(`${name}-nat-${i}`, {
        subnetId: subnet.id,
        allocationId: eip.id,
        tags: tags(`nat-${i}`),
      }, { parent: this, dependsOn: [igw] });
    });

    const privateSubnets = layout.private.map((cidrBlock, i) => {
      const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, {
        vpcId: vpc.id,
        cidrBlock,
        availabilityZone: this.availabilityZones[i],
        mapPublicIpOnLaunch: false,
        tags: tags(`private-${i}`, { "kubernetes.io/role/internal-elb": "1", "watchpipe.io/tier": "private" }),
      }, self);
      // Each AZ's private traffic leaves through its own AZ's NAT gateway (or the single one in dev).
      const nat = nats[args.natGatewayPerAz ? i : 0];
      const routes = new aws.ec2.RouteTable(`${name}-private-${i}`, {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
        tags: tags(`private-${i}`),
      }, self);
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: routes.id }, self);
      return subnet;
    });
    this.privateSubnetIds = privateSubnets.map((s) => s.id);

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, {
      retentionInDays: args.flowLogRetentionDays,
      tags: tags("flow-logs"),
    }, self);
    const flowLogRole = new aws.iam.Role(`${name}-flow-logs`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: tags("flow-logs"),
    }, self);
    new aws.iam.RolePolicy(`${name}-flow-logs`, {
      role: flowLogRole.id,
      policy: logGroup.arn.apply((arn) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [arn, `${arn}:*`],
          }],
        }),
      ),
    }, self);
    new aws.ec2.FlowLog(`${name}-flow-logs`, {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: flowLogRole.arn,
      tags: tags("flow-logs"),
    }, self);

    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds, publicSubnetIds: this.publicSubnetIds });
  }
}
