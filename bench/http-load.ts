import { connect, type Socket } from "node:net";

/**
 * The load generator's HTTP/1.1 client: keep-alive connections that each carry one request at a
 * time (as a browser does), requests written as prepared bytes, replies read just far enough to get
 * the status and the body. It shares the machine's cores with the pipeline it measures, so it should
 * cost as little as a client can: node:http costs several times more CPU per request, fetch more
 * still (profiled), and autocannon-style raw requests are what load generators do.
 */

export interface HttpReply {
  status: number;
  body: string;
}

/** A prepared request: `POST <path>` with a form body, as mixpanel-browser sends its batches. */
export function formPost(host: string, path: string, body: Buffer): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** One keep-alive connection; reconnects when the server closes it. */
export class HttpConnection {
  private socket?: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (reply: HttpReply) => void; reject: (error: Error) => void };

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Sends one prepared request and waits for its reply. */
  request(bytes: Buffer): Promise<HttpReply> {
    return new Promise<HttpReply>((resolve, reject) => {
      const socket = this.socket ?? this.open();
      this.waiting = { resolve, reject };
      socket.write(bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
    socket.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.readReply();
    });
    const fail = (error: Error) => {
      // A connection closed on purpose (close()) is no longer this.socket and fails nothing.
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.buffered = Buffer.alloc(0);
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
    this.socket = socket;
    return socket;
  }

  private readReply(): void {
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd === -1) return;
    const head = this.buffered.toString("latin1", 0, headerEnd);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const bodyStart = headerEnd + HEADER_END.length;
    if (this.buffered.length < bodyStart + length) return;
    const reply = { status: Number(head.slice(9, 12)), body: this.buffered.toString("utf8", bodyStart, bodyStart + length) };
    this.buffered = this.buffered.subarray(bodyStart + length);
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(reply);
  }
}
