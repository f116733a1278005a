import { describe, expect, it } from "vitest";
import { cloudRunLimits } from "../../components/gcp/cloud-run-sizing";
import { platformSetEnv } from "../../components/gcp/env";
import { service } from "../../components/topology";
import { gcpTopology } from "./support";

describe("Cloud Run sizes", () => {
  it.each([
    [{ memoryMb: 768, cpus: 1 }, { cpu: "1", memory: "768Mi" }],
    [{ memoryMb: 256, cpus: 0.5 }, { cpu: "1", memory: "512Mi" }],
    [{ memoryMb: 512, cpus: 1.5 }, { cpu: "2", memory: "512Mi" }],
    [{ memoryMb: 1024, cpus: 3 }, { cpu: "4", memory: "2048Mi" }],
    [{ memoryMb: 6144, cpus: 1 }, { cpu: "2", memory: "6144Mi" }],
    [{ memoryMb: 20000, cpus: 1 }, { cpu: "6", memory: "20000Mi" }],
    [{ memoryMb: 2048, cpus: 7 }, { cpu: "8", memory: "4096Mi" }],
  ])("%j runs as %j", (resources, limits) => {
    expect(cloudRunLimits(resources)).toEqual(limits);
  });

  it.each([
    [{ memoryMb: 40000, cpus: 1 }],
    [{ memoryMb: 1024, cpus: 12 }],
  ])("refuses %j, larger than any instance", (resources) => {
    expect(() => cloudRunLimits(resources)).toThrow(/exceed Cloud Run's largest instance/);
  });
});

describe("env Cloud Run sets itself", () => {
  it("leaves ingest's PORT to Cloud Run, which sets it to the container port", () => {
    expect([...platformSetEnv(service(gcpTopology(), "ingest"))]).toEqual(["PORT"]);
    expect([...platformSetEnv(service(gcpTopology(), "worker"))]).toEqual([]);
  });

  it("refuses a PORT that is not the container port", () => {
    const ingest = service(gcpTopology(), "ingest");
    expect(() => platformSetEnv({ ...ingest, env: { ...ingest.env, PORT: ["9999"] } })).toThrow(/ingest: PORT must be the container port on Cloud Run/);
  });
});
