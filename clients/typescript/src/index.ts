// A small TypeScript client for the safethird gRPC service. The message and
// service types under ./gen are generated from proto/safethird/v1 by
// protoc-gen-es (see buf.gen.ts.yaml at the repository root); the calls go
// over plain gRPC (HTTP/2) to the gRPC port, or over the Connect protocol
// (HTTP/1.1) to the HTTP door, with Connect's transports for Node.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { isIP } from "node:net";

import { AssessmentService } from "./gen/safethird/v1/assessment_service_pb.js";
import { CatalogService } from "./gen/safethird/v1/catalog_service_pb.js";

export * from "./gen/safethird/v1/agreement_pb.js";
export * from "./gen/safethird/v1/applicant_pb.js";
export * from "./gen/safethird/v1/assessment_pb.js";
export * from "./gen/safethird/v1/assessment_service_pb.js";
export * from "./gen/safethird/v1/catalog_service_pb.js";
export * from "./gen/safethird/v1/country_pb.js";
export * from "./gen/safethird/v1/errors_pb.js";
export * from "./gen/safethird/v1/framework_pb.js";
export * from "./gen/safethird/v1/source_pb.js";

/** Options for {@link connect}. */
export interface Options {
  /** Use TLS (https) instead of plaintext. */
  tls?: boolean;
  /** Bearer token sent with every call; refused over plaintext to a non-loopback host. */
  token?: string;
  /** Deadline for each call, in milliseconds. Default 10 000. */
  timeoutMs?: number;
  /**
   * "grpc" (the default) calls the gRPC port (`--addr`) over HTTP/2;
   * "connect" calls the HTTP door (`--http-addr`) with the Connect protocol
   * over HTTP/1.1, which any proxy passes.
   */
  protocol?: "grpc" | "connect";
}

/** The two services of safethird.v1. */
export interface Safethird {
  assessment: Client<typeof AssessmentService>;
  catalog: Client<typeof CatalogService>;
}

/**
 * connect returns clients for the server at addr ("host:port": the gRPC
 * port, or the HTTP door with protocol "connect"). Like the Go client, it
 * never sends a token without TLS to another machine.
 */
export function connect(addr: string, options: Options = {}): Safethird {
  const { tls = false, token, timeoutMs = 10_000, protocol = "grpc" } = options;
  const host = new URL(`http://${addr}`).hostname.replace(/^\[|\]$/g, "");
  if (token && !tls && !isLoopback(host)) {
    throw new Error(`refusing to send a bearer token over plaintext to ${addr}: use TLS`);
  }
  const interceptors: Interceptor[] = [];
  if (token) {
    interceptors.push((next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    });
  }
  const common = { baseUrl: `${tls ? "https" : "http"}://${addr}`, interceptors, defaultTimeoutMs: timeoutMs };
  const transport =
    protocol === "connect" ? createConnectTransport({ ...common, httpVersion: "1.1" }) : createGrpcTransport(common);
  return {
    assessment: createClient(AssessmentService, transport),
    catalog: createClient(CatalogService, transport),
  };
}

function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}
