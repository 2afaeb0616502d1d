import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../gen/csi';

/** Where the hand-written CSI proto lives, from dist/src/grpc or src/grpc alike. */
export const csiProtoPath = path.resolve(
  __dirname,
  '..',
  '..',
  ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []),
  'proto',
  'csi.proto',
);

/** The options the generated types assume: keep field names, enums as names, defaults filled. */
export const protoLoaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

/** Loads csi.v1 once: services for the server, client constructors for tests and tools. */
export function loadCsiProto(): ProtoGrpcType {
  if (!cached) {
    const def = protoLoader.loadSync(csiProtoPath, protoLoaderOptions);
    cached = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return cached;
}
