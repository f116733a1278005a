import { describe, expect, it } from "vitest";
import { eventBridgeCron } from "../../components/aws/cron";

describe("EventBridge cron from the stack's five-field UTC cron", () => {
  it.each([
    ["0 3 * * *", "cron(0 3 * * ? *)"],
    ["30 2 * * *", "cron(30 2 * * ? *)"],
    ["*/15 * * * *", "cron(*/15 * * * ? *)"],
    ["0 4 1 * *", "cron(0 4 1 * ? *)"],
    ["0 4 1,15 * *", "cron(0 4 1,15 * ? *)"],
    ["0 3 * * 0", "cron(0 3 ? * 1 *)"],
    ["0 3 * * 7", "cron(0 3 ? * 1 *)"],
    ["0 3 * * 1-5", "cron(0 3 ? * 2-6 *)"],
    ["0 3 * * 0,6", "cron(0 3 ? * 1,7 *)"],
    ["0 3 * * 5-7", "cron(0 3 ? * 6-7,1 *)"],
    ["0 3 * * 0-7", "cron(0 3 ? * 1-7 *)"],
    ["0 3 * * mon-fri", "cron(0 3 ? * MON-FRI *)"],
    ["0 3 * * SUN", "cron(0 3 ? * SUN *)"],
    ["  0   3 * *   *  ", "cron(0 3 * * ? *)"],
  ])("%s → %s", (cron, expected) => {
    expect(eventBridgeCron(cron)).toBe(expected);
  });

  it.each([
    ["0 3 * *", /five cron fields, got 4/],
    ["0 3 1 * 1", /restricts both day of month and day of week/],
    ["0 3 * * */2", /no step \(\/\) in day of week/],
    ["0 3 * * 8", /"8" is not a day of week/],
    ["0 3 * * 5-2", /descending range/],
  ])("refuses %s with a message that says why", (cron, message) => {
    const result = eventBridgeCron(cron);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(message);
  });
});
