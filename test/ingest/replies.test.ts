import { describe, expect, it } from "vitest";
import { Rejection } from "../../services/ingest/rejection";
import { failedRecord, isValidCallback, legacyReply, PIXEL, replyFormat, strictErrorReply, strictImportReply } from "../../services/ingest/replies";

describe("legacyReply", () => {
  it.each([
    ["plain success is exactly 1, no newline", {}, null, "text/plain; charset=utf-8", "1"],
    ["plain failure is exactly 0", {}, "data, missing or empty", "text/plain; charset=utf-8", "0"],
    ["verbose success", { verbose: "1" }, null, "application/json", '{"error":null,"status":1}'],
    ["verbose failure", { verbose: "1" }, "token, missing or empty", "application/json", '{"error":"token, missing or empty","status":0}'],
    ["JSONP success", { callback: "mixpanel._jsc[123]" }, null, "text/javascript; charset=utf-8", "mixpanel._jsc[123](1)"],
    ["JSONP verbose", { callback: "cb", verbose: "1" }, null, "text/javascript; charset=utf-8", 'cb({"error":null,"status":1})'],
    ["JSONP failure", { callback: "(function(){})" }, "x", "text/javascript; charset=utf-8", "(function(){})(0)"],
    ["an invalid callback falls back to plain", { callback: "alert(1);x" }, null, "text/plain; charset=utf-8", "1"],
  ])("%s", (_name, params, error, contentType, body) => {
    const reply = legacyReply(replyFormat(params), 200, error);
    expect(reply.status).toBe(200);
    expect(reply.headers["Content-Type"]).toBe(contentType);
    expect(reply.body).toBe(body);
  });

  it("answers img=1 with a 1×1 GIF whatever happened", () => {
    for (const error of [null, "bad"]) {
      const reply = legacyReply(replyFormat({ img: "1" }), 200, error);
      expect(reply.headers["Content-Type"]).toBe("image/gif");
      expect(reply.body).toBe(PIXEL);
    }
    expect(PIXEL.subarray(0, 6).toString()).toBe("GIF89a");
    expect(PIXEL.readUInt16LE(6)).toBe(1);
    expect(PIXEL.readUInt16LE(8)).toBe(1);
  });
});

describe("isValidCallback", () => {
  it.each([
    ["mixpanel._jsc[12345678]", true],
    ["(function(){})", true],
    ["$cb_1", true],
    ["alert(document.cookie)", false],
    ["a;b", false],
    ["</script>", false],
    ["x".repeat(200), false],
    ["1abc", false],
  ])("%j → %s", (name, valid) => {
    expect(isValidCallback(name)).toBe(valid);
  });
});

describe("strict /import replies", () => {
  it("200 with the count when everything was imported", () => {
    const reply = strictImportReply(3, []);
    expect(reply.status).toBe(200);
    expect(JSON.parse(String(reply.body))).toEqual({ code: 200, num_records_imported: 3, status: "OK" });
  });

  it("400 listing the failed records on partial success", () => {
    const failed = [failedRecord(1, new Rejection("bad_time", "properties.time", "before 1971-01-01"), { properties: { $insert_id: "abc" } })];
    const reply = strictImportReply(1, failed);
    expect(reply.status).toBe(400);
    expect(JSON.parse(String(reply.body))).toEqual({
      code: 400,
      error: "some data points in the request failed validation",
      status: "Bad Request",
      num_records_imported: 1,
      failed_records: [{ index: 1, $insert_id: "abc", field: "properties.time", message: "properties.time, before 1971-01-01" }],
    });
  });

  it.each([
    [401, "Invalid credentials", "Unauthorized"],
    [413, "request exceeds max limit of 10 bytes", "Request Entity Too Large"],
    [503, "a temporary failure occurred", "Service Unavailable"],
  ])("%i has Mixpanel's shape", (status, error, statusText) => {
    const reply = strictErrorReply(status, error);
    expect(reply.status).toBe(status);
    expect(JSON.parse(String(reply.body))).toEqual({ code: status, error, status: statusText, num_records_imported: 0 });
  });
});
