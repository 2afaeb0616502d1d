/**
 * The errors of the share backends. They say what went wrong in the backend's own terms;
 * src/grpc/toGrpcStatus.ts alone decides which status code each one becomes.
 */

/** A volume or snapshot name or id the driver does not accept (empty, too long, NUL, "/", ".."). */
export class InvalidIdentifierError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidIdentifierError';
  }
}

/** A volume parameter the driver does not accept (a bad duration, out of its bounds). */
export class InvalidParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidParameterError';
  }
}

/** A mount that cannot be planned from what the request says: its server, path, options, or the node's policy. */
export class MountPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MountPlanError';
  }
}

/** A mount this node cannot make as it is set up (an EFS access point without amazon-efs-utils). */
export class MountUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MountUnsupportedError';
  }
}

/** The share cannot be mounted or does not answer now; a later try may work. */
export class ShareUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShareUnavailableError';
  }
}

/** Controller work asked of a process that has no share mount (a node plugin of the nfs backend). */
export class NoShareMountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoShareMountError';
  }
}
