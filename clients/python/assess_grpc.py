import os

import grpc
from safethird.v1 import assessment_pb2
from safethird.v1 import assessment_service_pb2 as pb
from safethird.v1 import assessment_service_pb2_grpc as rpc

with grpc.insecure_channel(os.environ.get("SAFETHIRD_ADDR", "127.0.0.1:50051")) as channel:
    resp = rpc.AssessmentServiceStub(channel).AssessCountry(
        pb.AssessCountryRequest(country_code="MX", as_of="2019-01-01"))
    a = resp.assessment
    print(a.country_name, assessment_pb2.Determination.Name(a.determination))
    try:
        rpc.AssessmentServiceStub(channel).AssessCountry(pb.AssessCountryRequest(country_code="MEX"))
    except grpc.RpcError as err:
        print(err.code().name, err.details())
