import * as grpc from '@grpc/grpc-js';
import { loadCsiProto } from '../grpc/loadCsiProto';

/** A CSI call failed with a gRPC status: its code name and details, for a one-line message. */
export class CsiCallError extends Error {
  constructor(
    readonly code: string,
    readonly details: string,
  ) {
    super(`${code}: ${details}`);
    this.name = 'CsiCallError';
  }
}

/** One unary call to the driver: service, method, request; rejects with CsiCallError. */
export type CsiCall = (service: 'Identity' | 'Controller' | 'Node', method: string, req: object) => Promise<Record<string, unknown>>;

/** Connects to `address` (unix:///path or host:port) with the project's own proto; every call has `deadlineMs`. */
export function connectCsiCall(address: string, deadlineMs: number): { call: CsiCall; close(): void } {
  const v1 = loadCsiProto().csi.v1;
  const creds = grpc.credentials.createInsecure();
  const clients = {
    Identity: new v1.Identity(address, creds),
    Controller: new v1.Controller(address, creds),
    Node: new v1.Node(address, creds),
  };
  const call: CsiCall = (service, method, req) =>
    new Promise((resolve, reject) => {
      const client = clients[service] as unknown as Record<string, unknown>;
      const fn = client[method];
      if (typeof fn !== 'function') {
        reject(new Error(`no method ${service}.${method}`));
        return;
      }
      type Callback = (err: grpc.ServiceError | null, res: Record<string, unknown>) => void;
      (fn as (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback) => void).call(
        client,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err, res) => (err ? reject(new CsiCallError(grpc.status[err.code] ?? String(err.code), err.details)) : resolve(res)),
      );
    });
  return {
    call,
    close() {
      for (const c of Object.values(clients)) c.close();
    },
  };
}
