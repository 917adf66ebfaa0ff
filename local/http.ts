/**
 * Small node:http plumbing shared by the local development stand-ins (Secrets Manager, STS,
 * gateway): loopback-only listening, bounded body reading, and a close that does not hang on
 * keep-alive sockets held by SDK clients.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The request body exceeded the limit; the caller answers 413. */
export class RequestBodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The request body exceeds ${limit} bytes.`);
    this.name = 'RequestBodyTooLarge';
  }
}

/** Reads the whole body, refusing (without buffering further) once it passes `limit` bytes. */
export function readRequestBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      request.resume();
      reject(new RequestBodyTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    request.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new RequestBodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}

/** Listens on 127.0.0.1 only (a free port when `port` is 0 or undefined); resolves the port. */
export async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  // SDK clients keep sockets alive; a short idle timeout keeps shutdown and restarts snappy.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops accepting connections and drops idle and in-flight ones, then resolves. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
