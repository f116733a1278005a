/**
 * Query API answers as terminal tables (pure): columns padded to their widest cell, numbers right-aligned.
 */

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line), ""].join("\n");
}

const number = (value: number) => (Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(2));
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const duration = (seconds: number | null) => {
  if (seconds === null) return "";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7_200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${(seconds / 3_600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
};

export function renderSegmentation(answer: { data: { series: string[]; values: Record<string, Record<string, number>> } }): string {
  const segments = Object.keys(answer.data.values);
  const rows = answer.data.series.map((date) => [date, ...segments.map((segment) => number(answer.data.values[segment]![date] ?? 0))]);
  rows.push(["total", ...segments.map((segment) => number(Object.values(answer.data.values[segment]!).reduce((a, b) => a + b, 0)))]);
  return table(["date", ...segments], rows);
}

interface FunnelSteps {
  steps: Array<{ count: number; step_conv_ratio: number; overall_conv_ratio: number; avg_time: number | null; event: string; step_label?: string }>;
}

export function renderFunnel(answer: { meta: { dates: string[] }; data: Record<string, FunnelSteps | Record<string, FunnelSteps>> }): string {
  const parts: string[] = [];
  for (const date of answer.meta.dates) {
    const entry = answer.data[date]!;
    const segments = "steps" in entry ? { "": entry as FunnelSteps } : (entry as Record<string, FunnelSteps>);
    for (const [segment, { steps }] of Object.entries(segments)) {
      parts.push(`${date}${segment ? `  ${segment}` : ""}`);
      parts.push(
        table(
          ["step", "count", "from previous", "overall", "avg time"],
          steps.map((step, index) => [`${index + 1}. ${step.step_label ?? step.event}`, number(step.count), percent(step.step_conv_ratio), percent(step.overall_conv_ratio), duration(step.avg_time)]),
        ),
      );
    }
  }
  return parts.join("\n");
}

type Cohorts = Record<string, { counts: number[]; first: number }>;

export function renderRetention(answer: Cohorts | Record<string, Cohorts>): string {
  const first = Object.values(answer)[0];
  const bySegment: Record<string, Cohorts> = first && "counts" in first ? { "": answer as Cohorts } : (answer as Record<string, Cohorts>);
  const parts: string[] = [];
  for (const [segment, cohorts] of Object.entries(bySegment)) {
    const intervals = Math.max(0, ...Object.values(cohorts).map((cohort) => cohort.counts.length));
    if (segment) parts.push(segment);
    parts.push(
      table(
        ["cohort", "people", ...Array.from({ length: intervals }, (_, index) => `${index}`)],
        Object.entries(cohorts).map(([date, cohort]) => [
          date,
          number(cohort.first),
          ...Array.from({ length: intervals }, (_, index) => (index < cohort.counts.length ? (cohort.first ? percent(cohort.counts[index]! / cohort.first) : "-") : "")),
        ]),
      ),
    );
  }
  return parts.join("\n");
}
