/**
 * IAM Roles for Service Accounts: the trust document every IRSA role uses (EBS CSI driver, LB controller, the Connect
 * image build). Shared by components/ and operators/, so it lives on the contract floor.
 */

/** An IRSA trust policy: only `serviceAccount` (system:serviceaccount:<ns>:<name>) may assume the role. */
export function irsaTrustPolicy(oidcProviderArn: string, oidcProviderUrl: string, serviceAccount: string) {
  const issuer = oidcProviderUrl.replace(/^https:\/\//, "");
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Federated: oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: { [`${issuer}:sub`]: serviceAccount, [`${issuer}:aud`]: "sts.amazonaws.com" },
      },
    }],
  };
}
