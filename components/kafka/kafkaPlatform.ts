/**
 * The Kafka platform in dependency order: namespace → Strimzi operator → Kafka cluster → topics and users →
 * the players' HTTP path (+ ALB on EKS): the ingest gateway when `ingest.gateway` is set, else the Kafka Bridge →
 * Kafka UI → NetworkPolicies. index.ts calls {@link kafkaPlatform} once; downstream
 * components depend on `ready` and use `namespace`/`bootstrapServers`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppSettings } from "../../contract/settings";
import { AwsLoadBalancerController } from "../../operators/awsLoadBalancerController";
import { StrimziOperator } from "../../operators/strimzi";
import { Bridge } from "./bridge";
import { IngestGateway } from "./ingestGateway";
import { smokeIssuerFor } from "../../contract/smokeIssuer";
import { partitionPlan, type PartitionPlan } from "../../contract/capacity";
import { KafkaCluster } from "./kafka";
import { KafkaTopics } from "./kafkaTopics";
import { pipelineTopicPlans, topicDurability, type TopicPlan } from "./kafkaTopicSpecs";
import { KafkaUi } from "./kafkaUi";
import { KafkaUsers } from "./kafkaUsers";
import { KafkaNetworkPolicies } from "./networkPolicies";
import { IngestFirewall } from "../aws/ingestFirewall";
import { baseTags, type KubernetesTarget } from "../aws/platform";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import { ingestNeedsWebAcl } from "../../contract/ingest";

export interface KafkaPlatform {
  readonly namespace: string;
  readonly bootstrapServers: string;
  readonly strimzi: StrimziOperator;
  readonly cluster: KafkaCluster;
  readonly topics: KafkaTopics;
  readonly users: KafkaUsers;
  /**
   * The players' path without the gateway; undefined with it (nothing else writes through the Bridge: the session
   * ticker produces straight to Kafka as its own KafkaUser).
   */
  readonly bridge: Bridge | undefined;
  /** The players' path when `ingest.gateway` is set (docs/ingest.md); undefined otherwise. */
  readonly gateway: IngestGateway | undefined;
  /** The partition plan the pipeline topics use (ksqlDB output topics must match it). */
  readonly partitions: PartitionPlan;
  /** The pipeline topics as their KafkaTopics declare them (the ksqlDB migrations state the shapes they write into). */
  readonly topicPlans: TopicPlan[];
  /** Depend on these before creating a Kafka client: the cluster, its users (Secrets) and the pipeline topics. */
  readonly ready: pulumi.Resource[];
}

/** The config slice the Kafka platform reads. */
export type KafkaPlatformSettings = Pick<AppSettings, "kafka" | "capacity" | "bridge" | "ingest" | "network" | "protectData" | "region" | "project" | "stack" | "owner" | "charts" | "images"> & Partial<Pick<AppSettings, "deploy">>;

export function kafkaPlatform(config: KafkaPlatformSettings, target: KubernetesTarget): KafkaPlatform {
  const provider = target.provider;
  const ns = config.kafka.namespace;
  const protect = config.protectData;
  // `watchpipe:deploy`: readiness waits of the operator releases, the Ingress and the Kafka UI.
  const deploy = config.deploy ? { deploy: config.deploy } : {};

  const namespace = new k8s.core.v1.Namespace("kafka-namespace", { metadata: { name: ns } }, { provider });
  const strimzi = new StrimziOperator("strimzi", {
    provider,
    kafkaNamespace: ns,
    dependsOn: [namespace],
    ...(config.charts.strimzi ? { chart: config.charts.strimzi } : {}),
    images: config.images,
    ...deploy,
  });
  const operatorReady = [namespace, strimzi.release];

  const cluster = new KafkaCluster("kafka", {
    provider,
    namespace: ns,
    kafka: config.kafka,
    storageClassName: target.storageClassName,
    protect,
    dependsOn: operatorReady,
  });
  const afterCluster = [...operatorReady, cluster.kafka];

  const topicPlans = pipelineTopicPlans(config);
  const topics = new KafkaTopics("kafka-topics", {
    provider,
    namespace: ns,
    topics: topicPlans,
    durability: topicDurability(config),
    protect,
    dependsOn: afterCluster,
  });
  const users = new KafkaUsers("kafka-users", { provider, namespace: ns, dependsOn: afterCluster });

  const aws = target.aws;
  const controller = aws
    ? new AwsLoadBalancerController("aws-load-balancer-controller", {
      provider,
      clusterName: aws.clusterName,
      vpcId: aws.vpcId,
      region: config.region,
      oidcProviderArn: aws.oidcProviderArn,
      oidcProviderUrl: aws.oidcProviderUrl,
      tags: baseTags(config),
      ...(config.charts.awsLoadBalancerController ? { chart: config.charts.awsLoadBalancerController } : {}),
      images: config.images,
      ...deploy,
    })
    : undefined;

  // The web ACL only where the internet reaches the ALB. An internal ALB answers the VPC (and what is routed into
  // it) alone: the callers there are a front tier (CDN, API gateway, proxy) that carries its own WAF, or our own
  // services, and inspecting every heartbeat again would cost $0.60 per million requests for no one to stop
  // (docs/ingest.md "Cost"). The internal ALB keeps the POST-only rule and the VPC-only NetworkPolicy.
  const firewall = aws && ingestNeedsWebAcl(config.bridge.exposure)
    ? new IngestFirewall("ingest-waf", {
      waf: config.ingest.waf,
      perTokenRate: config.ingest.jwt !== undefined,
      metricPrefix: `${config.project}-${config.stack}`,
      tags: baseTags(config),
    })
    : undefined;

  const exposure = controller
    ? {
      exposure: config.bridge.exposure,
      certificateArn: config.bridge.certificateArn,
      jwt: config.ingest.jwt,
      wafAclArn: firewall?.webAclArn,
      controller: controller.release,
    }
    : undefined;
  const producerReady = [...afterCluster, users.users.bridge, topics.topics[RAW_HEARTBEATS_TOPIC]];
  // With the gateway, the ALB forwards players to it and no Bridge is deployed: a second write path into
  // heartbeats_raw that binds no identity would defeat the gateway (the ticker has its own producer and KafkaUser).
  const gatewaySettings = config.ingest.gateway;
  const jwt = config.ingest.jwt;
  const gateway = gatewaySettings && jwt
    ? new IngestGateway("ingest-gateway", {
      provider,
      namespace: ns,
      ...gatewaySettings,
      jwt,
      smoke: gatewaySettings.smokeIssuer ? { issuer: smokeIssuerFor(config.stack) } : undefined,
      images: config.images,
      sourceCidrs: aws ? [config.network.cidr] : [],
      ingress: exposure,
      dependsOn: producerReady,
      ...deploy,
    })
    : undefined;
  const bridge = gateway
    ? undefined
    : new Bridge("ingest", {
      provider,
      namespace: ns,
      replicas: config.bridge.replicas,
      ingress: exposure,
      dependsOn: producerReady,
      ...deploy,
    });

  new KafkaUi("kafka-ui", { provider, namespace: ns, dependsOn: [...afterCluster, users.users.kafkaUi], images: config.images, ...deploy });

  new KafkaNetworkPolicies("kafka-network-policies", {
    provider,
    namespace: ns,
    // The Bridge's port policy exists only with the Bridge; the gateway carries its own.
    bridgeSourceCidrs: bridge ? (aws ? [config.network.cidr] : []) : undefined,
    dependsOn: [namespace],
  });

  return {
    namespace: ns,
    bootstrapServers: cluster.bootstrapServers,
    strimzi,
    cluster,
    topics,
    users,
    bridge,
    gateway,
    partitions: partitionPlan(config.capacity),
    topicPlans,
    ready: [...afterCluster, ...Object.values(users.users), ...Object.values(topics.topics)],
  };
}
