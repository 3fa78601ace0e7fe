// Calls a running safethird server at SAFETHIRD_ADDR with the protos in
// SAFETHIRD_PROTO_DIR loaded at run time; run-test.sh starts the server
// and points both at it and at the repository's proto/.
import { test } from "node:test";
import assert from "node:assert/strict";
import grpc from "@grpc/grpc-js";

import { call, connect } from "./safethird.js";

const addr = process.env.SAFETHIRD_ADDR ?? "127.0.0.1:50051";
const protoDir = process.env.SAFETHIRD_PROTO_DIR ?? "../../proto";
const safethird = connect(addr, protoDir);

test("AssessCountry: Mexico on 2019-01-01 does not qualify, and the bar was not applied", async () => {
  const { assessment } = await call(safethird.assessment, "AssessCountry", { countryCode: "MX", asOf: "2019-01-01" });
  assert.equal(assessment.countryName, "Mexico");
  assert.equal(assessment.determination, "DETERMINATION_DOES_NOT_QUALIFY");
  assert.deepEqual(
    assessment.criteria.map((c) => [c.criterionId, c.status]),
    [
      ["agreement", "CRITERION_STATUS_NOT_MET"],
      ["no-persecution", "CRITERION_STATUS_NOT_MET"],
      ["fair-procedure", "CRITERION_STATUS_NOT_MET"],
    ],
  );
  assert.equal(assessment.practice.status, "PRACTICE_STATUS_NOT_APPLIED");
  assert.match(assessment.datasetRevision, /^sha256:[0-9a-f]{64}$/);
});

test("AssessRoute: Guatemala then Mexico in January 2020 turns on facts not given, for Guatemala", async () => {
  const route = await call(safethird.assessment, "AssessRoute", {
    legs: [{ countryCode: "GT" }, { countryCode: "MX" }],
    asOf: "2020-01-15",
    applicant: { nationalityCode: "HN" },
    view: "ASSESSMENT_VIEW_BASIC",
  });
  assert.equal(route.outcome, "APPLICANT_OUTCOME_NEEDS_FACTS");
  const [gt, mx] = route.assessments;
  assert.equal(gt.countryCode, "GT");
  assert.equal(gt.practice.status, "PRACTICE_STATUS_APPLIED");
  assert.equal(gt.applicantOutcome, "APPLICANT_OUTCOME_NEEDS_FACTS");
  assert.equal(mx.countryCode, "MX");
  assert.equal(mx.applicantOutcome, "APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY");
  assert.match(route.summary, /Guatemala \(GT\)/);
});

test("AssessCountry: a three-letter code is INVALID_ARGUMENT naming country_code", async () => {
  await assert.rejects(call(safethird.assessment, "AssessCountry", { countryCode: "MEX" }), (err) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /country_code: must be an ISO 3166-1 alpha-2 code/);
    return true;
  });
});
