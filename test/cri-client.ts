// A minimal client of the CRI (k8s.io/cri-api, package runtime.v1) for the
// tests: gRPC over node:http2 on a unix socket, with a hand-written protobuf
// encoding of only the fields the tests send and read. Field numbers are the
// api.proto's; a message is built as a list of fields and read as a table of
// field number → values (varints as bigint, length-delimited as bytes).

import { connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

// ── protobuf: wire types 0 (varint) and 2 (length-delimited) are all the CRI messages here use

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n); // negative int64s are ten bytes, two's complement
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? low | 0x80 : low);
  } while (v);
  return Buffer.from(out);
}

/** A field's bytes; defaults (0, '', false, undefined) are left out, as proto3 does. */
export type Value = string | number | bigint | boolean | Buffer | Value[] | undefined;
export type Message = [number, Value][];

export function encode(fields: Message): Buffer {
  const parts: Buffer[] = [];
  const put = (n: number, v: Value): void => {
    if (v === undefined || v === '' || v === 0 || v === false) return;
    if (Array.isArray(v)) return void parts.push(lengthDelimited(n, encode(v as Message)));
    if (typeof v === 'string' || Buffer.isBuffer(v)) return void parts.push(lengthDelimited(n, Buffer.from(v)));
    parts.push(varint(BigInt(n << 3)), varint(BigInt(v)));
  };
  for (const [n, v] of fields) put(n, v);
  return Buffer.concat(parts);
}

const lengthDelimited = (n: number, bytes: Buffer) => Buffer.concat([varint(BigInt((n << 3) | 2)), varint(BigInt(bytes.length)), bytes]);

/** Repeated fields: one entry per value. */
export const repeated = (n: number, values: Value[]): Message => values.map((v) => [n, v]);
/** A map<string, string>: one entry message (key 1, value 2) per pair. */
export const map = (n: number, pairs: Record<string, string>): Message =>
  Object.entries(pairs).map(([k, v]) => [
    n,
    [
      [1, k],
      [2, v],
    ],
  ]);

export class Decoded {
  constructor(readonly fields: Map<number, (bigint | Buffer)[]>) {}
  static of(bytes: Buffer): Decoded {
    const fields = new Map<number, (bigint | Buffer)[]>();
    let at = 0;
    const read = (): bigint => {
      let v = 0n;
      for (let shift = 0n; ; shift += 7n) {
        const b = bytes[at++];
        if (b === undefined) throw new Error('protobuf: truncated varint');
        v |= BigInt(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
      }
    };
    while (at < bytes.length) {
      const key = Number(read());
      const [n, wire] = [key >> 3, key & 7];
      let value: bigint | Buffer;
      if (wire === 0) value = read();
      else if (wire === 2) {
        const len = Number(read());
        value = bytes.subarray(at, (at += len));
      } else if (wire === 1 || wire === 5) value = bytes.subarray(at, (at += wire === 1 ? 8 : 4));
      else throw new Error(`protobuf: wire type ${wire} (field ${n}) is not read here`);
      fields.set(n, [...(fields.get(n) ?? []), value]);
    }
    return new Decoded(fields);
  }
  private last(n: number) {
    return this.fields.get(n)?.at(-1);
  }
  str(n: number): string {
    const v = this.last(n);
    return Buffer.isBuffer(v) ? v.toString('utf8') : '';
  }
  bytes(n: number): Buffer {
    const v = this.last(n);
    return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
  }
  /** An int32/int64/enum: a negative int32 comes as a ten-byte two's complement. */
  int(n: number): number {
    const v = this.last(n);
    return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0;
  }
  msg(n: number): Decoded {
    return Decoded.of(this.bytes(n));
  }
  map(n: number): Record<string, string> {
    const entries = (this.fields.get(n) ?? []).filter(Buffer.isBuffer).map((b) => Decoded.of(b));
    return Object.fromEntries(entries.map((e) => [e.str(1), e.str(2)]));
  }
}

// ── gRPC: each message is a 5-byte prefix (0 = not compressed, u32 length) then the bytes;
// the status comes in the trailers (or in the headers of a trailers-only answer)

export class GrpcError extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${method}: grpc-status ${status}: ${detail}`);
  }
}

export class CriClient {
  private session: ClientHttp2Session;
  constructor(
    socket: string,
    private service = 'runtime.v1.RuntimeService',
  ) {
    this.session = connect('http://localhost', { createConnection: () => netConnect(socket) });
    this.session.on('error', () => {}); // a call's own stream reports its failure
  }

  /** Calls service/method with the request; seconds is the call's deadline (grpc-timeout), as kubelet sets one. */
  call(method: string, request: Message, seconds: number): Promise<Decoded> {
    const body = encode(request);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    const stream = this.session.request({
      ':method': 'POST',
      ':path': `/${this.service}/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${seconds}S`,
    });
    stream.setTimeout((seconds + 5) * 1000, () => stream.close());
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let detail = '';
    const take = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined)
        [status, detail] = [String(h['grpc-status']), decodeURIComponent(String(h['grpc-message'] ?? ''))];
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.end(Buffer.concat([prefix, body]));
    return new Promise((resolve, reject) => {
      stream.on('error', (e) => reject(new Error(`${method}: ${e.message}`)));
      stream.on('close', () => {
        if (status !== '0')
          return reject(new GrpcError(method, Number(status ?? -1), status === undefined ? 'no grpc-status (deadline?)' : detail));
        const all = Buffer.concat(chunks);
        resolve(Decoded.of(all.subarray(5, 5 + (all.length >= 5 ? all.readUInt32BE(1) : 0))));
      });
    });
  }

  close(): void {
    this.session.close();
  }
}
