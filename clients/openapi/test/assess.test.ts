// Calls the REST paths of a running safethird server at SAFETHIRD_HTTP_ADDR
// with openapi-fetch, typed by src/schema.d.ts, which openapi-typescript
// generates from the document that server serves at /openapi.yaml
// (run-test.sh fetches it and runs `npm run generate`). A path, field or
// enum name the document gets wrong fails to compile or to answer here.
import { test } from "node:test";
import assert from "node:assert/strict";
import createClient from "openapi-fetch";

import type { paths } from "../src/schema.js";

const baseUrl = `http://${process.env.SAFETHIRD_HTTP_ADDR ?? "127.0.0.1:8080"}`;
// AssessCountry answers JSON or, asked for it, the memo as text/markdown;
// openapi-fetch's second type parameter picks the media type a client reads.
const client = createClient<paths, "application/json">({ baseUrl });
const memoClient = createClient<paths, "text/markdown">({ baseUrl });

test("AssessCountry: Mexico on 2019-01-01 does not qualify, and the bar was not applied", async () => {
  const { data, error } = await client.POST("/v1/countries/{countryCode}:assess", {
    params: { path: { countryCode: "MX" } },
    body: { asOf: "2019-01-01", view: "ASSESSMENT_VIEW_BASIC" },
  });
  assert.equal(error, undefined);
  const a = data?.assessment;
  assert.equal(a?.countryName, "Mexico");
  assert.equal(a?.determination, "DETERMINATION_DOES_NOT_QUALIFY");
  assert.equal(a?.practice?.status, "PRACTICE_STATUS_NOT_APPLIED");
  assert.deepEqual(
    a?.criteria?.map((c) => c.criterionId),
    ["agreement", "no-persecution", "fair-procedure"],
  );
});

test("AssessCountry: Accept text/markdown answers with the memo", async () => {
  const { data, response } = await memoClient.POST("/v1/countries/{countryCode}:assess", {
    params: { path: { countryCode: "MX" } },
    body: { asOf: "2019-01-01" },
    headers: { Accept: "text/markdown" },
    parseAs: "text",
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/markdown/);
  assert.equal(data?.split("\n")[0], "# Safe third country assessment: Mexico (MX)");
});

test("AssessRoute: Guatemala then Mexico in January 2020 turns on facts not given, for Guatemala", async () => {
  const { data, error } = await client.POST("/v1/routes:assess", {
    body: {
      legs: [{ countryCode: "GT" }, { countryCode: "MX" }],
      asOf: "2020-01-15",
      applicant: { nationalityCode: "HN" },
      view: "ASSESSMENT_VIEW_BASIC",
    },
  });
  assert.equal(error, undefined);
  assert.equal(data?.outcome, "APPLICANT_OUTCOME_NEEDS_FACTS");
  const [gt, mx] = data?.assessments ?? [];
  assert.equal(gt?.countryCode, "GT");
  assert.equal(gt?.practice?.status, "PRACTICE_STATUS_APPLIED");
  assert.equal(mx?.applicantOutcome, "APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY");
});

test("AssessCountry: a three-letter code is a 400 whose Status names the field", async () => {
  const { error, response } = await client.POST("/v1/countries/{countryCode}:assess", {
    params: { path: { countryCode: "MEX" } },
    body: {},
  });
  assert.equal(response.status, 400);
  assert.equal(error?.code, 3);
  let reason: string | undefined;
  let fields: string[] = [];
  for (const d of error?.details ?? []) {
    // The document's discriminated union: each detail by its @type.
    if (d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo") reason = d.reason;
    if (d["@type"] === "type.googleapis.com/google.rpc.BadRequest") fields = d.fieldViolations.map((v) => v.field);
  }
  assert.equal(reason, "ERROR_REASON_INVALID_ARGUMENT");
  assert.deepEqual(fields, ["country_code"]);
});

test("GetFramework: an unknown id is a 404 with its reason", async () => {
  const { error, response } = await client.GET("/v1/frameworks/{frameworkId}", {
    params: { path: { frameworkId: "no-such-framework" } },
  });
  assert.equal(response.status, 404);
  const info = error?.details?.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  assert.equal(info && "reason" in info ? info.reason : undefined, "ERROR_REASON_FRAMEWORK_NOT_FOUND");
});

test("readyz: SERVING, with no token", async () => {
  const { data, response } = await client.GET("/readyz");
  assert.equal(response.status, 200);
  assert.equal(data?.status, "SERVING");
});
