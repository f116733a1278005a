/**
 * The import rules of the source tree (docs/architecture.md), checked by test/lint/imports.test.ts
 * with dependency-cruiser. Only imports that stay at run time count (`import type` is erased).
 */
const cloudSdk = (sdk, folder, also) => ({
  name: `${sdk.replace(/[@/]/g, "")}-only-in-${folder}`,
  comment: `${sdk} belongs to the ${folder} platform folder${also ? ` (and ${also})` : ""}`,
  severity: "error",
  from: { path: "^(index\\.ts|config|components|services|cli|grafana)/?", pathNot: [`^components/${folder}/`, ...(also ? [also] : [])] },
  to: { path: `node_modules/${sdk}/` },
});

module.exports = {
  forbidden: [
    { name: "no-circular", comment: "a runtime import cycle", severity: "error", from: {}, to: { circular: true } },
    cloudSdk("@pulumi/docker", "docker"),
    cloudSdk("@pulumi/aws", "aws"),
    cloudSdk("@pulumi/gcp", "gcp"),
    // The images the clouds build and push.
    cloudSdk("@pulumi/docker-build", "(docker|aws|gcp)"),
    // The operator's `--stack` trigger, and the backup agent's store for that cloud.
    cloudSdk("@aws-sdk", "aws", "^services/ops/store-s3\\.ts$"),
    cloudSdk("@google-cloud", "gcp", "^services/ops/store-gcs\\.ts$"),
    {
      name: "services-stand-alone",
      comment: "the code in the containers imports no Pulumi, no config, no components and no CLI",
      severity: "error",
      from: { path: "^services/" },
      to: { path: ["^(config|components|cli)/", "node_modules/@pulumi/"] },
    },
  ],
  options: {
    tsPreCompilationDeps: false,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["^test/lint/fixtures/", "^node_modules/"] },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json", ".cjs"] },
  },
};
