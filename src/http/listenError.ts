/** What a listening port is configured by, to name it in an error. */
export interface PortSetting {
  flag: string;
  env: string;
  port: number;
  address: string;
}

/** A port the driver was told to listen on cannot be had. */
export class PortUnavailableError extends Error {
  constructor(
    readonly setting: PortSetting,
    readonly code: string,
  ) {
    const where = `${setting.address}:${setting.port}`;
    super(
      code === 'EADDRINUSE'
        ? `${setting.flag} ${setting.port} (env ${setting.env}): ${where} is already in use, most likely by another csi-driver on this machine ` +
            `(or another program; see \`ss -ltnp 'sport = :${setting.port}'\`); stop it or choose another port (0 turns this port off)`
        : `${setting.flag} ${setting.port} (env ${setting.env}): cannot listen on ${where} (${code})`,
    );
    this.name = 'PortUnavailableError';
  }
}

/** Turns a listen error into one that names the flag and the likely cause; other errors pass through. */
export function explainListenError(err: unknown, setting: PortSetting): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') return new PortUnavailableError(setting, code);
  return err;
}
