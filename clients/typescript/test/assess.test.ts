// Calls a running safethird server, over gRPC at SAFETHIRD_ADDR (default
// 127.0.0.1:50051) and over the Connect protocol at SAFETHIRD_HTTP_ADDR
// (default 127.0.0.1:8080), and checks real answers. run-test.sh starts one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";

import {
  ApplicantOutcome,
  AssessmentView,
  connect,
  CriterionStatus,
  Determination,
  PracticeStatus,
} from "../src/index.js";

const token = process.env.SAFETHIRD_TOKEN;
// The same calls over both doors: gRPC on the gRPC port, the Connect
// protocol on the HTTP door.
const doors = [
  { protocol: "grpc", addr: process.env.SAFETHIRD_ADDR ?? "127.0.0.1:50051" },
  { protocol: "connect", addr: process.env.SAFETHIRD_HTTP_ADDR ?? "127.0.0.1:8080" },
] as const;
const safethird = connect(doors[0].addr, { token });

for (const { protocol, addr } of doors) {
  const door = connect(addr, { token, protocol });

  test(`${protocol}: AssessCountry: Mexico on 2019-01-01 does not qualify`, async () => {
    const { assessment } = await door.assessment.assessCountry({ countryCode: "MX", asOf: "2019-01-01" });
    assert.ok(assessment, "response has an assessment");
    assert.equal(assessment.countryName, "Mexico");
    assert.equal(assessment.determination, Determination.DOES_NOT_QUALIFY);
    assert.deepEqual(
      assessment.criteria.map((c) => [c.criterionId, c.status]),
      [
        ["agreement", CriterionStatus.NOT_MET],
        ["no-persecution", CriterionStatus.NOT_MET],
        ["fair-procedure", CriterionStatus.NOT_MET],
      ],
    );
    assert.match(assessment.datasetRevision, /^sha256:[0-9a-f]{64}$/);
    assert.ok(assessment.sources.length > 0, "the full view cites sources");
    assert.equal(assessment.practice?.status, PracticeStatus.NOT_APPLIED, "no agreement: the bar was not applied");
  });

  test(`${protocol}: AssessRoute: Guatemala then Mexico in January 2020 turns on facts not given, for Guatemala`, async () => {
    const route = await door.assessment.assessRoute({
      legs: [{ countryCode: "GT" }, { countryCode: "MX" }],
      asOf: "2020-01-15",
      applicant: { nationalityCode: "HN" },
      view: AssessmentView.BASIC,
    });
    assert.equal(route.outcome, ApplicantOutcome.NEEDS_FACTS);
    const [gt, mx] = route.assessments;
    assert.equal(gt?.countryCode, "GT");
    assert.equal(gt?.practice?.status, PracticeStatus.APPLIED);
    assert.equal(gt?.applicantOutcome, ApplicantOutcome.NEEDS_FACTS);
    assert.equal(mx?.countryCode, "MX");
    assert.equal(mx?.applicantOutcome, ApplicantOutcome.BAR_DOES_NOT_APPLY);
    assert.equal(gt?.sources.length, 0, "the basic view leaves out sources");
  });

  test(`${protocol}: AssessCountry: an unassigned code is INVALID_ARGUMENT`, async () => {
    await assert.rejects(door.assessment.assessCountry({ countryCode: "ZZ" }), (err) => {
      const e = ConnectError.from(err);
      assert.equal(e.code, Code.InvalidArgument);
      return true;
    });
  });
}

test("AssessCountry: Guatemala on 2020-01-01 is applied in practice but does not qualify", async () => {
  const { assessment } = await safethird.assessment.assessCountry({
    countryCode: "GT",
    asOf: "2020-01-01",
    applicant: { nationalityCode: "HN", entryDate: "2019-12-01" },
  });
  assert.ok(assessment?.practice, "the answer carries the practice");
  assert.equal(assessment.practice.status, PracticeStatus.APPLIED);
  assert.equal(assessment.practice.agreementId, "us-gt-aca");
  assert.equal(assessment.determination, Determination.DOES_NOT_QUALIFY);
  assert.match(assessment.summary, /In practice: .* On the evidence: /);
});

test("ListFrameworks: the default framework is listed", async () => {
  const { frameworks } = await safethird.catalog.listFrameworks({});
  assert.ok(frameworks.some((f) => f.id === "us-ina-208a2a"));
});

test("connect refuses a token over plaintext to another host", () => {
  assert.throws(() => connect("safethird.example:50051", { token: "t" }), /refusing/);
});
