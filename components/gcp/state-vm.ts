import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GcpConfig } from "./config";
import { renderCloudInit, type CloudInitPlan } from "./cloud-init";
import type { GcpNames } from "./names";

export interface StateDisk {
  /** `<service>-<volume>`: resource name suffix and device name inside the VM. */
  device: string;
  sizeGb: number;
  service: string;
  volume: string;
}

export interface GcpStateVmArgs {
  names: GcpNames;
  settings: Pick<GcpConfig, "region" | "machineType" | "osImage" | "bootDiskGb" | "diskType" | "snapshots">;
  zone: string;
  subnetwork: pulumi.Input<string>;
  /** The VM's reserved private address (from the network plan). */
  address: string;
  /** Network tags: the VM's own and one per stateful service it runs (firewall targets). */
  tags: string[];
  serviceAccountEmail: pulumi.Input<string>;
  disks: StateDisk[];
  cloudInit: pulumi.Input<CloudInitPlan>;
  /** Keep the data disks when the stack is destroyed (the topology's `keepDataOnDestroy`). */
  keepDisks: boolean;
  labels: Record<string, string>;
  /** Resources the VM must wait for (IAM grants it needs at boot). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * The stateful services' home: a shielded Container-Optimized OS VM without a public address,
 * configured by cloud-init only, with one persistent data disk per stateful volume (formatted on
 * first boot only, kept on destroy by default, snapshotted daily) and a reserved private address.
 * A change of the cloud-init replaces the VM (COS applies user data at boot); disks and address
 * are separate resources and carry over.
 */
export class GcpStateVm extends pulumi.ComponentResource {
  readonly instance: gcp.compute.Instance;
  readonly disks: ReadonlyArray<{ spec: StateDisk; disk: gcp.compute.Disk }>;
  readonly snapshotPolicy: gcp.compute.ResourcePolicy | undefined;
  readonly address: gcp.compute.Address;
  readonly userData: pulumi.Output<string>;

  constructor(name: string, args: GcpStateVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:StateVm", name, {}, opts);
    const { names, settings } = args;
    const child = { parent: this };

    this.snapshotPolicy = settings.snapshots.enabled
      ? new gcp.compute.ResourcePolicy(
          `${name}-snapshots`,
          {
            name: names.of("snapshots"),
            region: settings.region,
            description: "mixstack: daily crash-consistent snapshots of the data disks",
            snapshotSchedulePolicy: {
              schedule: { dailySchedule: { daysInCycle: 1, startTime: `${String(settings.snapshots.hourUtc).padStart(2, "0")}:00` } },
              retentionPolicy: { maxRetentionDays: settings.snapshots.retentionDays, onSourceDiskDelete: "KEEP_AUTO_SNAPSHOTS" },
              snapshotProperties: { storageLocations: settings.region, labels: args.labels, guestFlush: false },
            },
          },
          child,
        )
      : undefined;

    this.disks = args.disks.map((spec) => {
      const disk = new gcp.compute.Disk(
        `${name}-${spec.device}`,
        {
          name: names.of(spec.device),
          zone: args.zone,
          type: settings.diskType,
          size: spec.sizeGb,
          description: `mixstack: ${spec.service} ${spec.volume}`,
          labels: { ...args.labels, "mixstack-service": spec.service, "mixstack-volume": spec.volume },
        },
        // The data outlives the stack unless told otherwise; the name is stable so a new VM finds it.
        { parent: this, retainOnDelete: args.keepDisks },
      );
      if (this.snapshotPolicy) {
        new gcp.compute.DiskResourcePolicyAttachment(
          `${name}-${spec.device}-snapshots`,
          { disk: disk.name, zone: args.zone, name: this.snapshotPolicy.name },
          child,
        );
      }
      return { spec, disk };
    });

    this.address = new gcp.compute.Address(
      `${name}-address`,
      {
        name: names.of("vm"),
        region: settings.region,
        addressType: "INTERNAL",
        purpose: "GCE_ENDPOINT",
        subnetwork: args.subnetwork,
        address: args.address,
        description: "mixstack: private address of the stateful VM, referenced by every service",
      },
      child,
    );

    this.userData = pulumi.output(args.cloudInit).apply(renderCloudInit);
    this.instance = new gcp.compute.Instance(
      `${name}-instance`,
      {
        name: names.of("vm"),
        zone: args.zone,
        machineType: settings.machineType,
        description: "mixstack: InfluxDB and the queue (Container-Optimized OS, cloud-init, systemd + docker run)",
        bootDisk: { autoDelete: true, initializeParams: { image: settings.osImage, size: settings.bootDiskGb, type: "pd-balanced" } },
        attachedDisks: this.disks.map(({ spec, disk }) => ({ source: disk.id, deviceName: spec.device, mode: "READ_WRITE" })),
        // No accessConfigs: no public address. Image pulls go through Private Google Access (Artifact Registry) or Cloud NAT.
        networkInterfaces: [{ subnetwork: args.subnetwork, networkIp: this.address.address }],
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        serviceAccount: { email: args.serviceAccountEmail, scopes: ["cloud-platform"] },
        scheduling: { automaticRestart: true, onHostMaintenance: "MIGRATE" },
        metadata: {
          "user-data": this.userData,
          "google-logging-enabled": "true",
          "google-monitoring-enabled": "true",
          "enable-oslogin": "TRUE",
          "block-project-ssh-keys": "true",
        },
        tags: args.tags,
        labels: args.labels,
        allowStoppingForUpdate: true,
      },
      {
        parent: this,
        dependsOn: args.dependsOn,
        // User data applies at boot: a new one needs a new VM. The old one goes first (same disks, name and address).
        replaceOnChanges: ["metadata"],
        deleteBeforeReplace: true,
      },
    );
    this.registerOutputs({ instance: this.instance.id, address: this.address.address });
  }
}
