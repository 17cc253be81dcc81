import * as http from 'http';
import { AddressInfo } from 'net';

export const API_KEY = 'sk-test';

/** The text of a chat message's content: a string, or the text parts of a list. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return JSON.stringify(content);
}

/**
 * A stand-in for OpenAI's chat completions on 127.0.0.1: it answers `echo: <last user text>`, checks the
 * API key, and answers 429 (rate limit) to the first N calls of a text registered with `throttle`.
 */
export class StandInProvider {
  /** Calls per last-user-message text. */
  readonly calls = new Map<string, number>();
  readonly requests: { authorization?: string; body: any }[] = [];
  private readonly throttled = new Map<string, number>();
  private server?: http.Server;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/chat/completions`;
  }

  /** Answer 429 to the next `times` calls whose last user message is `text`. */
  throttle(text: string, times: number): void {
    this.throttled.set(text, times);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => this.answer(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      send(404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
      return;
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      send(400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
      return;
    }
    this.requests.push({ authorization: req.headers.authorization, body });
    const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
    const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
    const text = textOf(lastUser?.content);
    this.calls.set(text, (this.calls.get(text) ?? 0) + 1);

    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      send(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      return;
    }
    const throttles = this.throttled.get(text) ?? 0;
    if (throttles > 0) {
      this.throttled.set(text, throttles - 1);
      send(429, { error: { message: 'Rate limit', type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
      return;
    }
    send(200, {
      id: 'chatcmpl-1', object: 'chat.completion', model: body.model ?? 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${text}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    });
  }
}
