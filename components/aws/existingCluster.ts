import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface ExistingClusterArgs {
  /** kubeconfig context to use; undefined means the kubeconfig's current context. */
  readonly kubeconfigContext?: string;
  /** StorageClass every PersistentVolumeClaim uses (kind: standard, k3d: local-path). */
  readonly storageClass: string;
}

/** An existing cluster (kind, k3d, minikube, or any cluster in the current kubeconfig): no VPC, no EKS. */
export class ExistingCluster extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly storageClassName: string;
  readonly context: pulumi.Output<string>;

  constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:cluster:ExistingCluster", name, {}, opts);
    this.provider = new k8s.Provider(`${name}-k8s`, { context: args.kubeconfigContext }, { parent: this });
    this.storageClassName = args.storageClass;
    this.context = pulumi.output(args.kubeconfigContext ?? "(current kubeconfig context)");
    this.registerOutputs({ context: this.context });
  }
}
