import * as grpc from '@grpc/grpc-js';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { isLoopbackHost, type Endpoint } from '../config';

export interface ServiceBinding {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** The CSI gRPC server on a unix socket or TCP port. */
export class CsiServer {
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  private boundPort = 0;

  constructor(
    private readonly endpoint: Endpoint,
    services: ServiceBinding[],
    private readonly logger: Logger,
  ) {
    for (const s of services) this.server.addService(s.definition, s.implementation);
  }

  /** The address clients use: `unix:///path` or `host:port` (with the real port when 0 was asked). */
  get address(): string {
    return this.endpoint.kind === 'unix' ? `unix://${this.endpoint.path}` : `${this.endpoint.host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    let target: string;
    if (this.endpoint.kind === 'unix') {
      await mkdir(path.dirname(this.endpoint.path), { recursive: true });
      await removeStaleSocket(this.endpoint.path);
      target = `unix://${this.endpoint.path}`;
    } else {
      target = `${this.endpoint.host}:${this.endpoint.port}`;
    }
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    // The socket grants every CSI call, mounts included: owner and group only, whatever the umask.
    if (this.endpoint.kind === 'unix') await chmod(this.endpoint.path, socketMode);
    else if (!isLoopbackHost(this.endpoint.host)) {
      this.logger.warn({ endpoint: this.address }, 'CSI served on a TCP address other than loopback: gRPC here has no authentication, anyone who reaches it can mount and delete volumes');
    }
    this.logger.info({ endpoint: this.address }, 'CSI server listening');
  }

  /** Stops accepting calls, lets in-flight calls finish (up to `graceMs`), then removes the socket. */
  async stop(graceMs = 10_000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn('in-flight calls did not finish in time; forcing shutdown');
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.endpoint.kind === 'unix') await unlink(this.endpoint.path).catch(() => undefined);
  }
}

/** rw for the owner (root in the manifests) and its group, nothing for others. */
export const socketMode = 0o660;

/** A socket file left by a process that died is replaced; any other kind of file is not touched. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let st;
  try {
    st = await lstat(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  await unlink(socketPath);
}
