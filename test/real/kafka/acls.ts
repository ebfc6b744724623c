/**
 * Grants a principal the ACLs the program declares (contract/acls.ts shape, as the KafkaUser manifests carry them) on
 * a test broker that runs an authorizer, so a real-server suite runs a client with exactly its production
 * permissions. The harness's own admin client must be a super user on the broker (its PLAINTEXT listener).
 */
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
  type AclEntry,
} from "kafkajs";
import type { Acl, AclOperation, AclResourceType } from "../../../contract/acls";

/** KRaft's authorizer (what Strimzi's `authorization: simple` runs on a KRaft cluster). */
export const STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
/** Broker settings that enforce ACLs as Strimzi's `authorization: simple` does; the harness (PLAINTEXT, no SASL) is the super user. */
export const ACLS_ENFORCED = {
  "authorizer.class.name": STANDARD_AUTHORIZER,
  "super.users": "User:ANONYMOUS",
  "allow.everyone.if.no.acl.found": false,
} as const;

const RESOURCE: Record<AclResourceType, AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  cluster: AclResourceTypes.CLUSTER,
  transactionalId: AclResourceTypes.TRANSACTIONAL_ID,
};

const OPERATION: Record<AclOperation, AclOperationTypes> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Create: AclOperationTypes.CREATE,
  Delete: AclOperationTypes.DELETE,
  Alter: AclOperationTypes.ALTER,
  Describe: AclOperationTypes.DESCRIBE,
  ClusterAction: AclOperationTypes.CLUSTER_ACTION,
  AlterConfigs: AclOperationTypes.ALTER_CONFIGS,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  IdempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
};

/** One kafkajs ACL entry per (resource, operation) of `acls`, allowed for `User:<user>` from any host. */
export function aclEntries(user: string, acls: readonly Acl[]): AclEntry[] {
  return acls.flatMap((a) => a.operations.map((op) => ({
    resourceType: RESOURCE[a.resource.type],
    // The cluster resource has one fixed name.
    resourceName: a.resource.type === "cluster" ? "kafka-cluster" : a.resource.name ?? "",
    resourcePatternType: a.resource.patternType === "prefix" ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: `User:${user}`,
    host: "*",
    operation: OPERATION[op],
    permissionType: AclPermissionTypes.ALLOW,
  })));
}

/** Creates `acls` for `user` through `brokers` (a listener where the harness is a super user). */
export async function grantAcls(brokers: readonly string[], user: string, acls: readonly Acl[]): Promise<void> {
  const admin = new Kafka({ clientId: "harness-acls", brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: aclEntries(user, acls) });
  } finally {
    await admin.disconnect();
  }
}
