import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** moto's server (a local AWS API): MOTO_SERVER, else cdk/.venv/bin/moto_server (npm test installs it). */
export const MOTO_SERVER = process.env.MOTO_SERVER ?? path.join(__dirname, '..', '..', '.venv', 'bin', 'moto_server');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A moto server on 127.0.0.1, started in a temporary folder and stopped by `stop`. */
export class Moto {
  private child?: ChildProcess;
  private dir?: string;
  port = 0;

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!fs.existsSync(MOTO_SERVER)) {
      throw new Error(`moto_server is missing at ${MOTO_SERVER}: \`npm test\` installs it into cdk/.venv ` +
        '(pip install "moto[server]"), or set MOTO_SERVER.');
    }
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moto-'));
    this.port = await freePort();
    this.child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(this.port)], { cwd: this.dir, stdio: 'ignore' });
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        const res = await fetch(`${this.endpoint}/moto-api/`);
        if (res.status < 500) return;
      } catch {
        // not up yet
      }
      if (this.child.exitCode !== null) throw new Error(`moto_server exited with ${this.child.exitCode}`);
      if (Date.now() > deadline) throw new Error('moto_server did not answer within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
