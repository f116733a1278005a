import type { PlatformFakes } from "../platform";

/** What Google Cloud would compute for the stack's resources and lookups, faked deterministically for offline evaluation. */
export const gcpFakes = (): PlatformFakes => ({
  outputs(type, _name, inputs) {
    switch (type) {
      case "gcp:cloudrunv2/service:Service":
        return { uri: `https://${String(inputs.name)}-mock.a.run.app` };
      case "gcp:secretmanager/secretVersion:SecretVersion":
        return { version: "1" };
      case "gcp:memorystore/instance:Instance":
        return {
          endpoints: [{ connections: [{ pscAutoConnection: { connectionType: "CONNECTION_TYPE_PRIMARY", ipAddress: "10.255.255.2", port: 6379 } }] }],
          managedServerCas: [{ caCerts: [{ certificates: ["-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n"] }] }],
        };
      default:
        return undefined;
    }
  },
  invoke(token) {
    // The deployer's access token, used to push images to Artifact Registry.
    if (token === "gcp:organizations/getClientConfig:getClientConfig") return { accessToken: "mock-access-token", id: "mock", project: "", region: "", zone: "" };
    return undefined;
  },
});
