// Calls safethird from Node.js with @grpc/grpc-js, the protos loaded at run
// time by @grpc/proto-loader: no generated code. protoDir is the
// repository's proto/ directory, which holds the imports too (buf/validate,
// google/api, google/rpc).
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

export function connect(addr, protoDir) {
  const definition = protoLoader.loadSync(
    ["safethird/v1/assessment_service.proto", "safethird/v1/catalog_service.proto"],
    // Enums by name, as the JSON forms show them; unset fields stay unset.
    { includeDirs: [protoDir], enums: String, longs: String, defaults: false, oneofs: true },
  );
  const { safethird } = grpc.loadPackageDefinition(definition);
  const credentials = grpc.credentials.createInsecure();
  return {
    assessment: new safethird.v1.AssessmentService(addr, credentials),
    catalog: new safethird.v1.CatalogService(addr, credentials),
  };
}

// call makes one unary call with a 10 s deadline and returns its answer.
export function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 10_000 }, (err, response) =>
      err ? reject(err) : resolve(response),
    );
  });
}
