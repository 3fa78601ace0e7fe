import os

import grpc
from safethird.v1 import applicant_pb2
from safethird.v1 import assessment_pb2
from safethird.v1 import assessment_service_pb2 as pb
from safethird.v1 import assessment_service_pb2_grpc as rpc

with grpc.insecure_channel(os.environ.get("SAFETHIRD_ADDR", "127.0.0.1:50051")) as channel:
    stub = rpc.AssessmentServiceStub(channel)
    a = stub.AssessCountry(pb.AssessCountryRequest(country_code="MX", as_of="2019-01-01"), timeout=10).assessment
    print(a.country_name, assessment_pb2.Determination.Name(a.determination))
    route = stub.AssessRoute(pb.AssessRouteRequest(
        legs=[pb.RouteLeg(country_code="GT"), pb.RouteLeg(country_code="MX")], as_of="2020-01-15",
        applicant=applicant_pb2.Applicant(nationality_code="HN")), timeout=10)
    print(assessment_pb2.ApplicantOutcome.Name(route.outcome), route.assessments[0].country_name)
    try:
        stub.AssessCountry(pb.AssessCountryRequest(country_code="MEX"), timeout=10)
    except grpc.RpcError as err:
        print(err.code().name, err.details())
