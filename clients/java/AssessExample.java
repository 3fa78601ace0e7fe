import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import safethird.v1.ApplicantOuterClass.Applicant;
import safethird.v1.AssessmentOuterClass.Assessment;
import safethird.v1.AssessmentServiceGrpc;
import safethird.v1.AssessmentServiceOuterClass.AssessCountryRequest;
import safethird.v1.AssessmentServiceOuterClass.AssessRouteRequest;
import safethird.v1.AssessmentServiceOuterClass.AssessRouteResponse;
import safethird.v1.AssessmentServiceOuterClass.RouteLeg;

public class AssessExample {
  public static void main(String[] args) throws InterruptedException {
    String addr = System.getenv().getOrDefault("SAFETHIRD_ADDR", "127.0.0.1:50051");
    ManagedChannel channel = ManagedChannelBuilder.forTarget(addr).usePlaintext().build();
    try {
      AssessmentServiceGrpc.AssessmentServiceBlockingStub stub =
          AssessmentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      Assessment a = stub.assessCountry(
          AssessCountryRequest.newBuilder().setCountryCode("MX").setAsOf("2019-01-01").build()).getAssessment();
      System.out.println(a.getCountryName() + " " + a.getDetermination());
      AssessRouteResponse route = stub.assessRoute(AssessRouteRequest.newBuilder()
          .addLegs(RouteLeg.newBuilder().setCountryCode("GT"))
          .addLegs(RouteLeg.newBuilder().setCountryCode("MX"))
          .setAsOf("2020-01-15")
          .setApplicant(Applicant.newBuilder().setNationalityCode("HN"))
          .build());
      System.out.println(route.getOutcome() + " " + route.getAssessments(0).getCountryName());
      try {
        stub.assessCountry(AssessCountryRequest.newBuilder().setCountryCode("MEX").build());
      } catch (StatusRuntimeException e) {
        System.out.println(e.getStatus().getCode() + " " + e.getStatus().getDescription());
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
