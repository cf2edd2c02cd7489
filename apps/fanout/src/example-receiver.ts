import { createServer, type Server } from 'node:http';

/** How an example receiver answers its nth request (1-based). */
export type ExampleAnswer = (nth: number) => number;

export interface ExampleReceiverOptions {
  name: string;
  port: number;
  host?: string;
  answer: ExampleAnswer;
  /** Called once per request with a line to show. */
  log: (line: string) => void;
}

/** A destination for the demo and for docker compose: prints what it receives and answers as told. */
export async function startExampleReceiver({ name, port, host = '127.0.0.1', answer, log }: ExampleReceiverOptions): Promise<Server> {
  let received = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received += 1;
      const status = answer(received);
      const body = Buffer.concat(chunks).toString().slice(0, 80);
      log(`${name.padEnd(9)} ← webhook-id ${String(req.headers['webhook-id'])}  ${body}  → answers ${status}`);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
