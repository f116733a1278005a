/**
 * What Grafana 13 does with time before an InfluxQL query leaves it, restated for the tests:
 * relative ranges (`now-7d`, `now/d`), panel time overrides (`timeFrom`, `timeShift`), the
 * `$__interval` it picks for a range, and how its backend prints that interval. Sources, in
 * grafana/grafana: `packages/grafana-data/src/datetime/{datemath,rangeutil}.ts`, scenes'
 * `PanelTimeRange`, `pkg/tsdb/influxdb/models/query.go`, and the plugin SDK's `gtime.FormatInterval`.
 * Only the forms the dashboards use are supported; anything else throws, so a new form cannot slip
 * into a dashboard untested. Time zone: UTC (the dashboards' setting).
 */

export interface TimeRange {
  /** Inclusive bounds in epoch milliseconds, as `$timeFilter` prints them. */
  from: number;
  to: number;
}

export interface RawTimeRange {
  from: string;
  to: string;
}

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof unitMs;

function isUnit(value: string): value is Unit {
  return value in unitMs;
}

/** `now`, `now-7d`, `now-6d/d`, `now/d`: Grafana's date math on a UTC clock. */
export function parseDateMath(expression: string, now: number, roundUp: boolean): number {
  const match = /^now(?:([-+])(\d+)([smhd]))?(?:\/([smhd]))?$/.exec(expression);
  if (!match) throw new Error(`unsupported Grafana date math ${JSON.stringify(expression)}`);
  const [, sign, amount, unit, roundTo] = match;
  let time = now;
  if (sign && amount && unit && isUnit(unit)) time += (sign === "-" ? -1 : 1) * Number(amount) * unitMs[unit];
  return roundTo && isUnit(roundTo) ? roundToUnit(time, roundTo, roundUp) : time;
}

/** moment's `startOf(unit)` or, rounding up, `endOf(unit)` (the last millisecond of the unit). */
function roundToUnit(time: number, unit: Unit, roundUp: boolean): number {
  const start = Math.floor(time / unitMs[unit]) * unitMs[unit];
  return roundUp ? start + unitMs[unit] - 1 : start;
}

/** A shift relative to a given time (`-1d/d`), as `dateMath.parseDateMath` applies `timeShift`. */
function applyShift(shift: string, time: number, roundUp: boolean): number {
  const match = /^-(\d+)([smhd])(?:\/([smhd]))?$/.exec(shift);
  if (!match) throw new Error(`unsupported Grafana time shift ${JSON.stringify(shift)}`);
  const [, amount, unit, roundTo] = match;
  if (!unit || !isUnit(unit)) throw new Error(`unsupported unit in ${shift}`);
  const shifted = time - Number(amount) * unitMs[unit];
  return roundTo && isUnit(roundTo) ? roundToUnit(shifted, roundTo, roundUp) : shifted;
}

export function dashboardRange(raw: RawTimeRange, now: number): TimeRange {
  return { from: parseDateMath(raw.from, now, false), to: parseDateMath(raw.to, now, true) };
}

export interface PanelTimeOverrides {
  timeFrom?: string;
  timeShift?: string;
}

/**
 * The range a panel queries. `timeFrom` replaces the start ("7d" means "now-7d"; "now/d" is
 * accepted as is) and only applies while the dashboard range is relative; `timeShift` then moves
 * both ends back, rounding `from` down and `to` up when it carries a `/unit`.
 */
export function panelRange(raw: RawTimeRange, now: number, panel: PanelTimeOverrides): TimeRange {
  let range = dashboardRange(raw, now);
  if (panel.timeFrom) {
    if (!raw.from.startsWith("now")) throw new Error("timeFrom with an absolute dashboard range is not modelled");
    const from = panel.timeFrom.includes("now") ? panel.timeFrom : `now-${panel.timeFrom}`;
    range = { from: parseDateMath(from, now, false), to: parseDateMath("now", now, true) };
  }
  if (panel.timeShift) {
    const shift = `-${panel.timeShift}`;
    range = { from: applyShift(shift, range.from, false), to: applyShift(shift, range.to, true) };
  }
  return range;
}

/** `rangeutil.roundInterval`: the bucket sizes Grafana rounds a raw interval to. */
export function roundInterval(interval: number): number {
  const steps: Array<[below: number, rounded: number]> = [
    [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1_500, 1_000],
    [3_500, 2_000], [7_500, 5_000], [12_500, 10_000], [17_500, 15_000], [25_000, 20_000],
    [45_000, 30_000], [90_000, 60_000], [210_000, 120_000], [450_000, 300_000], [750_000, 600_000],
    [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000], [5_400_000, 3_600_000],
    [9_000_000, 7_200_000], [16_200_000, 10_800_000], [32_400_000, 21_600_000], [86_400_000, 43_200_000],
    [604_800_000, 86_400_000], [1_814_400_000, 604_800_000], [3_628_800_000, 2_592_000_000],
  ];
  for (const [below, rounded] of steps) if (interval < below) return rounded;
  return 31_536_000_000;
}

/** `rangeutil.intervalToMs` for the interval strings the data source and panels use (`10s`). */
export function intervalToMs(interval: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(interval);
  if (!match) throw new Error(`unsupported interval ${JSON.stringify(interval)}`);
  const [, count, unit] = match;
  return Number(count) * (unit === "ms" ? 1 : unitMs[unit as Unit]);
}

/**
 * `rangeutil.calculateInterval`: the range divided by the panel's max data points, rounded, and
 * never below the minimum interval (the panel's `interval`, else the data source's `timeInterval`).
 */
export function calculateIntervalMs(range: TimeRange, maxDataPoints: number, minInterval?: string): number {
  const lowLimit = minInterval ? intervalToMs(minInterval) : 1;
  return Math.max(roundInterval((range.to - range.from) / maxDataPoints), lowLimit);
}

/** `gtime.FormatInterval`: how the backend prints `$__interval` (largest whole unit, truncated). */
export function formatInterval(intervalMs: number): string {
  const units: Array<[string, number]> = [["y", 365 * unitMs.d], ["d", unitMs.d], ["h", unitMs.h], ["m", unitMs.m], ["s", unitMs.s], ["ms", 1]];
  for (const [suffix, size] of units) if (intervalMs >= size) return `${Math.floor(intervalMs / size)}${suffix}`;
  return "1ms";
}
