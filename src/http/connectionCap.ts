import type * as http from 'node:http';
import type { Socket } from 'node:net';

/** What a capped server reports about its connections (for tests and logs). */
export interface ConnectionCapStats {
  open: number;
  evicted: number;
  refused: number;
}

/**
 * Caps the open connections of a server at `max`. A connection over the cap first evicts the
 * oldest connection that has no request in flight (an idle keep-alive or a client that never
 * sent a request); only when every connection is busy is the new one closed. So the process
 * holds at most `max + 1` sockets for this server whatever a client opens, and a flood of idle
 * connections cannot keep a real probe out: each new connection pushes the oldest idle one out.
 */
export function capConnections(server: http.Server, max: number): () => ConnectionCapStats {
  // A Set iterates in insertion order: the first idle entry is the oldest.
  const open = new Set<Socket>();
  const busy = new Set<Socket>();
  let evicted = 0;
  let refused = 0;
  const drop = (socket: Socket): void => {
    open.delete(socket);
    busy.delete(socket);
    socket.destroy();
  };
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
    if (open.size <= max) return;
    for (const s of open) {
      if (s !== socket && !busy.has(s)) {
        evicted++;
        drop(s);
        return;
      }
    }
    refused++;
    drop(socket);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    busy.add(socket);
    res.once('close', () => busy.delete(socket));
  });
  return () => ({ open: open.size, evicted, refused });
}
