import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** The Google APIs the stack uses; the managed queue adds Memorystore and its networking. */
export function requiredApis(options: { managedQueue: boolean }): string[] {
  return [
    // Project-level IAM grants (gcp.projects.IAMMember) read and write the policy through it.
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "run.googleapis.com",
    "artifactregistry.googleapis.com",
    "secretmanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "storage.googleapis.com",
    ...(options.managedQueue ? ["memorystore.googleapis.com", "networkconnectivity.googleapis.com", "serviceconsumermanagement.googleapis.com"] : []),
  ];
}

/**
 * Enables the APIs on the project (a fresh project has most of them off). They stay enabled when
 * the stack is destroyed: other workloads of the project may use them.
 */
export function enableApis(name: string, project: string, apis: readonly string[], parent: pulumi.Resource): gcp.projects.Service[] {
  return apis.map(
    (api) =>
      new gcp.projects.Service(
        `${name}-${api.split(".")[0]}`,
        { project, service: api, disableOnDestroy: false, disableDependentServices: false },
        { parent },
      ),
  );
}
