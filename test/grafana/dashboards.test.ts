import { cpSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { influxDatasourceUid } from "../../grafana/src/datasource";
import { renderDashboards, staleDashboards } from "../../grafana/src/generate";
import { scratchDir } from "../harness/services";
import { allPanels, dashboardsDir, grafanaDir, loadDashboards, queryPanels } from "./dashboard-json";

/**
 * The generated JSON, the provisioning files and the image agree with each other and with the
 * TypeScript sources: what Grafana loads is what the panel tests ran.
 */

const dashboards = loadDashboards();

interface DatasourceProvisioning {
  apiVersion: number;
  datasources: Array<{
    name: string;
    uid: string;
    type: string;
    access: string;
    url: string;
    user: string;
    editable: boolean;
    jsonData: { dbName: string; httpMode: string; version?: string; timeInterval?: string };
    secureJsonData: { password: string };
  }>;
}

interface DashboardProvisioning {
  apiVersion: number;
  providers: Array<{ name: string; type: string; allowUiUpdates: boolean; options: { path: string } }>;
}

const datasourceFile = parse(readFileSync(join(grafanaDir, "provisioning", "datasources", "influxdb.yaml"), "utf8")) as DatasourceProvisioning;
const providerFile = parse(readFileSync(join(grafanaDir, "provisioning", "dashboards", "mixstack.yaml"), "utf8")) as DashboardProvisioning;
const dockerfile = readFileSync(join(grafanaDir, "Dockerfile"), "utf8");

describe("generated dashboards", () => {
  it("are exactly what the TypeScript sources generate now (run `npm run dashboards` after a change)", () => {
    expect(staleDashboards()).toEqual([]);
    expect(readdirSync(dashboardsDir).filter((file) => file.endsWith(".json")).sort()).toEqual([...renderDashboards().keys()].sort());
  });

  it("are reported stale when a committed file differs from the sources", () => {
    const copy = scratchDir("dashboards-copy");
    cpSync(dashboardsDir, copy, { recursive: true });
    const file = join(copy, "overview.json");
    writeFileSync(file, readFileSync(file, "utf8").replace('"fill(0)', '"fill(null)').replace("Top events", "Top events (edited)"));
    expect(staleDashboards(copy)).toEqual(["overview.json"]);
  });

  it("have unique uids", () => {
    const uids = dashboards.map(({ dashboard }) => dashboard.uid);
    expect(uids).toEqual(["mixstack-events", "mixstack-overview", "mixstack-pipeline", "mixstack-users"]);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard] as const))("%s has unique panel ids and titles", (_, dashboard) => {
    const panels = allPanels(dashboard);
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    const titles = queryPanels(dashboard).map((panel) => panel.title);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard] as const))(
    "%s: every panel, query and variable uses the provisioned data source",
    (_, dashboard) => {
      const refs = [
        ...queryPanels(dashboard).flatMap((panel) => [panel.datasource, ...(panel.targets ?? []).map((target) => target.datasource)]),
        ...dashboard.templating.list.map((variable) => variable.datasource),
      ];
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(ref).toEqual({ type: "influxdb", uid: datasourceFile.datasources[0]!.uid });
    },
  );

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard] as const))(
    "%s: every query is raw InfluxQL limited to the time range, with fixed buckets for $__interval",
    (_, dashboard) => {
      for (const panel of queryPanels(dashboard)) {
        expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.rawQuery, panel.title).toBe(true);
          expect(target.query, panel.title).toContain("$timeFilter");
          if (target.query?.includes("$__interval")) expect(panel.maxDataPoints, panel.title).toBeGreaterThan(0);
        }
      }
    },
  );
});

describe("provisioning", () => {
  it("declares one InfluxQL data source with the uid the dashboards use, read-only, credentials from the environment", () => {
    expect(datasourceFile.apiVersion).toBe(1);
    expect(datasourceFile.datasources).toHaveLength(1);
    const [source] = datasourceFile.datasources;
    expect(source).toMatchObject({
      uid: influxDatasourceUid,
      type: "influxdb",
      access: "proxy",
      url: "${INFLUX_URL}",
      user: "${INFLUX_READER_USER}",
      editable: false,
      jsonData: { dbName: "${INFLUX_DB}", httpMode: "POST" },
      secureJsonData: { password: "${INFLUX_READER_PASSWORD}" },
    });
    // No `version` means InfluxQL (Flux and SQL are the alternatives).
    expect(source!.jsonData.version).toBeUndefined();
  });

  it("uses only environment variables the contract gives Grafana's container", () => {
    const contract = readFileSync(join(grafanaDir, "..", "docs", "contracts.md"), "utf8");
    const grafanaLine = contract.split("\n\n").find((paragraph) => paragraph.startsWith("Grafana's container reads"));
    expect(grafanaLine).toBeDefined();
    const used = [...readFileSync(join(grafanaDir, "provisioning", "datasources", "influxdb.yaml"), "utf8").matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(grafanaLine).toContain(`\`${name}\``);
  });

  it("loads the dashboards from where the image puts them, and the UI cannot save over them", () => {
    expect(providerFile.apiVersion).toBe(1);
    expect(providerFile.providers).toHaveLength(1);
    const [provider] = providerFile.providers;
    expect(provider).toMatchObject({ type: "file", allowUiUpdates: false });
    expect(dockerfile).toMatch(new RegExp(`^COPY dashboards/ ${provider!.options.path}/?$`, "m"));
    expect(dockerfile).toMatch(/^COPY provisioning\/ \/etc\/grafana\/provisioning\/?$/m);
  });

  it("builds the image from an exact Grafana 13 patch release", () => {
    expect(dockerfile).toMatch(/^FROM grafana\/grafana:13\.\d+\.\d+$/m);
  });

  it("makes the overview the home dashboard", () => {
    const home = /GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH=(\S+)/.exec(dockerfile)?.[1];
    expect(home).toBe(`${providerFile.providers[0]!.options.path}/overview.json`);
  });
});
