import * as grpc from '@grpc/grpc-js';
import { loadCsiProto } from '../../src/grpc/loadCsiProto';
import type { ControllerClient } from '../../src/gen/csi/v1/Controller';
import type { NodeClient } from '../../src/gen/csi/v1/Node';
import type { IdentityClient } from '../../src/gen/csi/v1/Identity';
import type { GroupControllerClient } from '../../src/gen/csi/v1/GroupController';

type Unary<C> = {
  [
    K in keyof C as K extends `${infer F}${string}` ? (F extends Uppercase<F> ? (K extends string ? K : never) : never) : never
  ]: C[K] extends {
    (argument: infer Req, callback: grpc.requestCallback<infer Res>): grpc.ClientUnaryCall;
  }
    ? (req: Req, deadlineMs?: number) => Promise<Res>
    : never;
};

function promisify<C extends grpc.Client>(client: C): Unary<C> {
  return new Proxy(
    {},
    {
      get(_t, name: string) {
        const fn = (client as unknown as Record<string, unknown>)[name];
        if (typeof fn !== 'function') return undefined;
        return (req: unknown, deadlineMs = 60_000) =>
          new Promise((resolve, reject) => {
            (fn as (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void).call(
              client,
              req,
              new grpc.Metadata(),
              { deadline: Date.now() + deadlineMs },
              (err, res) => (err ? reject(err) : resolve(res)),
            );
          });
      },
    },
  );
}

/** A CSI client over the same proto as the server, with promise methods. */
export interface CsiClient {
  identity: Unary<IdentityClient>;
  controller: Unary<ControllerClient>;
  node: Unary<NodeClient>;
  group: Unary<GroupControllerClient>;
  close(): void;
}

export function connectCsi(address: string): CsiClient {
  const v1 = loadCsiProto().csi.v1;
  const creds = grpc.credentials.createInsecure();
  const identity = new v1.Identity(address, creds);
  const controller = new v1.Controller(address, creds);
  const node = new v1.Node(address, creds);
  const group = new v1.GroupController(address, creds);
  return {
    identity: promisify(identity),
    controller: promisify(controller),
    node: promisify(node),
    group: promisify(group),
    close() {
      group.close();
      identity.close();
      controller.close();
      node.close();
    },
  };
}

/** Expects a promise to fail with a gRPC status code; returns the error for more checks. */
export async function expectCode(p: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code !== code) throw new Error(`expected ${grpc.status[code]}, got ${grpc.status[e.code] ?? e.code}: ${e.details ?? e.message}`);
    return e;
  }
  throw new Error(`expected ${grpc.status[code]}, but the call succeeded`);
}

export { grpc };
