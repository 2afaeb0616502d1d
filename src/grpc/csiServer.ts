import * as grpc from '@grpc/grpc-js';
import { chmod, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { isLoopbackHost, type Endpoint } from '../config';
import { refuseLiveSocket } from './socketInUse';

export interface ServiceBinding {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** The CSI gRPC server on a unix socket or TCP port. */
export class CsiServer {
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  private boundPort = 0;
  /** The inode of the socket file this server bound, so that stop removes only its own. */
  private socketIno: number | undefined;

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

  /**
   * Binds and listens. A unix socket is bound under a private name in the same directory, made
   * owner-and-group only, then renamed over the endpoint path: the path never holds a socket
   * with looser permissions, and the server's own close (which unlinks the name it bound) can
   * never remove a socket another server put at the endpoint path since.
   */
  async start(): Promise<void> {
    if (this.endpoint.kind === 'tcp') {
      this.boundPort = await this.bind(`${this.endpoint.host}:${this.endpoint.port}`);
      if (!isLoopbackHost(this.endpoint.host)) {
        this.logger.warn(
          { endpoint: this.address },
          'CSI served on a TCP address other than loopback: gRPC here has no authentication, anyone who reaches it can mount and delete volumes',
        );
      }
    } else {
      const socketPath = this.endpoint.path;
      await mkdir(path.dirname(socketPath), { recursive: true });
      await removeStaleSocket(socketPath);
      // The name tells the pid to a second driver refused on this path (socketOwnerPid).
      const bindPath = path.join(path.dirname(socketPath), `.csi-${process.pid}.sock`);
      await unlink(bindPath).catch(() => undefined);
      await this.bind(`unix://${bindPath}`);
      // The socket grants every CSI call, mounts included: owner and group only, whatever the umask.
      await chmod(bindPath, socketMode);
      this.socketIno = (await lstat(bindPath)).ino;
      await rename(bindPath, socketPath);
    }
    this.logger.info({ endpoint: this.address }, 'CSI server listening');
  }

  private bind(target: string): Promise<number> {
    return new Promise<number>((resolve, reject) =>
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
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
    if (this.endpoint.kind === 'unix') await removeOwnSocket(this.endpoint.path, this.socketIno, this.logger);
  }
}

/** rw for the owner (root in the manifests) and its group, nothing for others. */
export const socketMode = 0o660;

/**
 * A socket file left by a process that died is replaced. A socket that answers belongs to a live
 * server (another driver on the same path): taking it over would leave that one unreachable, so
 * start-up is refused. Any other kind of file is not touched.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let st;
  try {
    st = await lstat(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  await refuseLiveSocket(socketPath);
  await unlink(socketPath);
}

/** Removes the socket file only if it is still the one this server bound (another server may have replaced it since). */
async function removeOwnSocket(socketPath: string, ino: number | undefined, logger: Logger): Promise<void> {
  const st = await lstat(socketPath).catch(() => undefined);
  if (!st || ino === undefined) return;
  if (st.ino !== ino) {
    logger.warn({ socket: socketPath }, 'the socket file is no longer the one this server bound; left in place');
    return;
  }
  await unlink(socketPath).catch(() => undefined);
}
