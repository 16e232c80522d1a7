// OpenSSH's signatures of files (PROTOCOL.sshsig, what `ssh-keygen -Y sign`
// writes and `-Y verify` checks) and the keys they name, with node:crypto
// alone: Ed25519, ECDSA (nistp256/384/521) and RSA (rsa-sha2-512/256; never
// SHA-1, which the format forbids). Keys are read from OpenSSH's own files:
// public keys as wire blobs (PROTOCOL, RFC 4253 §6.6) and private keys in the
// openssh-key-v1 container (PROTOCOL.key), unencrypted only. Every value is
// read through Reader, which never reads past its buffer.

import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

const MAGIC = Buffer.from('SSHSIG');
const ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const ARMOR_END = '-----END SSH SIGNATURE-----';
const KEY_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const KEY_END = '-----END OPENSSH PRIVATE KEY-----';

/** The curves of ecdsa-sha2-<curve>: the JWK name, the scalar size and the hash its signatures use (RFC 5656 §6.2.1). */
const curves: Record<string, { crv: string; size: number; hash: string }> = {
  nistp256: { crv: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { crv: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { crv: 'P-521', size: 66, hash: 'sha512' },
};

/** The hash of each RSA signature type SSHSIG accepts. */
const rsaHashes: Record<string, string> = { 'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256' };

/** Thrown for anything malformed; the callers turn it into their coded error, naming their file. */
export class SshFormatError extends Error {}

/** SSH's wire format: uint32, string (uint32 length + bytes), mpint. */
export class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    if (this.at + 4 > this.buf.length) throw new SshFormatError('it ends early');
    this.at += 4;
    return this.buf.readUInt32BE(this.at - 4);
  }
  bytes(n: number): Buffer {
    if (n > this.buf.length - this.at) throw new SshFormatError('it ends early');
    this.at += n;
    return this.buf.subarray(this.at - n, this.at);
  }
  string(): Buffer {
    return this.bytes(this.u32());
  }
  text(): string {
    return this.string().toString('latin1');
  }
  /** An mpint as unsigned big-endian bytes, without leading zeros. */
  mpint(): Buffer {
    const b = this.string();
    if (b.length && b[0] & 0x80) throw new SshFormatError('a negative integer');
    let i = 0;
    while (i < b.length && b[i] === 0) i++;
    return b.subarray(i);
  }
  done(): boolean {
    return this.at === this.buf.length;
  }
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (b: Buffer | string) => {
  const bytes = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([u32(bytes.length), bytes]);
};
/** An unsigned integer as an mpint: minimal, with a zero byte where the top bit would read as a sign. */
const mpint = (b: Buffer) => {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  const v = b.subarray(i);
  return str(v.length && v[0] & 0x80 ? Buffer.concat([Buffer.of(0), v]) : v);
};
const b64url = (b: Buffer) => b.toString('base64url');
const leftPad = (b: Buffer, size: number) => {
  if (b.length > size) throw new SshFormatError('an integer too large for its curve');
  return Buffer.concat([Buffer.alloc(size - b.length), b]);
};

export interface PublicKey {
  /** ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, … */
  type: string;
  /** the wire blob: what an allowed-signers line and a signature carry, compared byte for byte */
  blob: Buffer;
  key: KeyObject;
}

/** A public key from its wire blob; SshFormatError for a type ctc does not verify or a malformed blob. */
export function publicKey(blob: Buffer): PublicKey {
  const r = new Reader(blob);
  const type = r.text();
  let jwk: Record<string, string>;
  if (type === 'ssh-ed25519') {
    const pk = r.string();
    if (pk.length !== 32) throw new SshFormatError('an Ed25519 key that is not 32 bytes');
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) };
  } else if (type.startsWith('ecdsa-sha2-') && curves[type.slice(11)]) {
    const curve = curves[type.slice(11)];
    if (r.text() !== type.slice(11)) throw new SshFormatError(`a ${type} key for another curve`);
    jwk = { kty: 'EC', crv: curve.crv, ...point(r.string(), curve.size) };
  } else if (type === 'ssh-rsa') {
    const e = r.mpint();
    jwk = { kty: 'RSA', e: b64url(e), n: b64url(r.mpint()) };
  } else {
    throw new SshFormatError(
      `a key of type ${type}, which ctc does not verify (it verifies ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa)`,
    );
  }
  if (!r.done()) throw new SshFormatError('bytes after the key');
  return { type, blob, key: createPublicKey({ key: jwk, format: 'jwk' }) };
}

/** An uncompressed EC point (0x04 || x || y) as JWK coordinates. */
function point(q: Buffer, size: number): { x: string; y: string } {
  if (q.length !== 1 + 2 * size || q[0] !== 4) throw new SshFormatError('an EC point that is not uncompressed');
  return { x: b64url(q.subarray(1, 1 + size)), y: b64url(q.subarray(1 + size)) };
}

/** ssh-keygen -l's fingerprint: SHA256:<base64 without padding>. */
export const fingerprint = (blob: Buffer) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

export interface PrivateKey {
  public: PublicKey;
  key: KeyObject;
}

/** A private key from an OpenSSH private key file's text; SshFormatError says what is wrong. */
export function privateKey(text: string): PrivateKey {
  const begin = text.indexOf(KEY_BEGIN);
  const end = text.indexOf(KEY_END);
  if (begin < 0 || end < begin) throw new SshFormatError(`not an OpenSSH private key (no ${KEY_BEGIN} line)`);
  const r = new Reader(Buffer.from(text.slice(begin + KEY_BEGIN.length, end).replace(/\s+/g, ''), 'base64'));
  if (!r.bytes(15).equals(Buffer.from('openssh-key-v1\0'))) throw new SshFormatError('not an openssh-key-v1 key');
  const cipher = r.text();
  r.text(); // kdf name
  r.string(); // kdf options
  if (cipher !== 'none') throw new SshFormatError(`the key is encrypted (${cipher}) with a passphrase`);
  if (r.u32() !== 1) throw new SshFormatError('the file holds more than one key');
  const pub = publicKey(r.string());
  const p = new Reader(r.string());
  const check = p.u32(); // OpenSSH's checkint: the private part begins with the same random 32 bits twice
  if (p.u32() !== check) throw new SshFormatError('its check bytes differ (a corrupt key)');
  const type = p.text();
  if (type !== pub.type) throw new SshFormatError(`its private part is a ${type} key, its public part a ${pub.type}`);
  return { public: pub, key: createPrivateKey({ key: privateJwk(type, p, pub), format: 'jwk' }) };
}

function privateJwk(type: string, p: Reader, pub: PublicKey): Record<string, string> {
  const jwk = pub.key.export({ format: 'jwk' }) as Record<string, string>;
  if (type === 'ssh-ed25519') {
    p.string(); // the public key again
    const sk = p.string(); // seed || public key
    if (sk.length !== 64) throw new SshFormatError('an Ed25519 private key that is not 64 bytes');
    return { ...jwk, d: b64url(sk.subarray(0, 32)) };
  }
  if (type.startsWith('ecdsa-sha2-')) {
    p.text(); // curve
    p.string(); // public point
    return { ...jwk, d: b64url(leftPad(p.mpint(), curves[type.slice(11)].size)) };
  }
  // ssh-rsa: n e d iqmp p q; JWK also wants d mod (p-1) and d mod (q-1)
  const [, , d, iqmp, pp, q] = [p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint()];
  const big = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
  const bytes = (n: bigint) => Buffer.from(n.toString(16).padStart(2 * Math.ceil(n.toString(16).length / 2), '0'), 'hex');
  const dp = bytes(big(d) % (big(pp) - 1n));
  const dq = bytes(big(d) % (big(q) - 1n));
  return { ...jwk, d: b64url(d), p: b64url(pp), q: b64url(q), dp: b64url(dp), dq: b64url(dq), qi: b64url(iqmp) };
}

export interface Signature {
  /** the signer's public key blob */
  publicKey: Buffer;
  namespace: string;
  hashAlgorithm: string;
  /** the signature blob: string type, string bytes */
  signature: Buffer;
}

/** What is signed: the preamble, then namespace, reserved, hash algorithm and the message's hash as strings. */
function signedData(namespace: string, hashAlgorithm: string, message: Buffer): Buffer {
  const h = createHash(hashAlgorithm).update(message).digest();
  return Buffer.concat([MAGIC, str(namespace), str(''), str(hashAlgorithm), str(h)]);
}

/** Signs message as `ssh-keygen -Y sign -n namespace` does (SHA-512); returns the armored signature. */
export function signMessage(key: PrivateKey, namespace: string, message: Buffer): string {
  const data = signedData(namespace, 'sha512', message);
  const type = key.public.type;
  let blob: Buffer;
  if (type === 'ssh-ed25519') blob = Buffer.concat([str(type), str(sign(null, data, key.key))]);
  else if (type.startsWith('ecdsa-sha2-')) {
    const curve = curves[type.slice(11)];
    const rs = sign(curve.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' });
    blob = Buffer.concat([str(type), str(Buffer.concat([mpint(rs.subarray(0, curve.size)), mpint(rs.subarray(curve.size))]))]);
  } else blob = Buffer.concat([str('rsa-sha2-512'), str(sign('sha512', data, key.key))]);
  const body = Buffer.concat([MAGIC, u32(1), str(key.public.blob), str(namespace), str(''), str('sha512'), str(blob)]);
  const lines = body.toString('base64').match(/.{1,70}/g)!;
  return `${ARMOR_BEGIN}\n${lines.join('\n')}\n${ARMOR_END}\n`;
}

/** Reads an armored signature; SshFormatError if it is not one. */
export function parseSignature(text: string): Signature {
  const begin = text.indexOf(ARMOR_BEGIN);
  const end = text.indexOf(ARMOR_END);
  if (begin < 0 || end < begin) throw new SshFormatError(`not an SSH signature (no ${ARMOR_BEGIN} line)`);
  const r = new Reader(Buffer.from(text.slice(begin + ARMOR_BEGIN.length, end).replace(/\s+/g, ''), 'base64'));
  if (!r.bytes(6).equals(MAGIC)) throw new SshFormatError('not an SSHSIG blob');
  const version = r.u32();
  if (version !== 1) throw new SshFormatError(`SSHSIG version ${version} (ctc reads version 1)`);
  const sig = { publicKey: r.string(), namespace: r.text(), reserved: r.string(), hashAlgorithm: r.text(), signature: r.string() };
  if (!r.done()) throw new SshFormatError('bytes after the signature');
  return { publicKey: sig.publicKey, namespace: sig.namespace, hashAlgorithm: sig.hashAlgorithm, signature: sig.signature };
}

/** Whether sig is a valid signature of message in namespace by the key it names (which key that is, is the caller's question). */
export function verifyMessage(sig: Signature, namespace: string, message: Buffer): boolean {
  if (sig.namespace !== namespace || (sig.hashAlgorithm !== 'sha512' && sig.hashAlgorithm !== 'sha256')) return false;
  try {
    return verifyBlob(sig, namespace, message);
  } catch (e) {
    if (e instanceof SshFormatError) return false; // a malformed signature blob signs nothing
    throw e;
  }
}

function verifyBlob(sig: Signature, namespace: string, message: Buffer): boolean {
  const key = publicKey(sig.publicKey);
  const data = signedData(namespace, sig.hashAlgorithm, message);
  const r = new Reader(sig.signature);
  const type = r.text();
  const bytes = r.string();
  if (!r.done()) return false;
  if (key.type === 'ssh-ed25519') return type === key.type && verify(null, data, key.key, bytes);
  if (key.type.startsWith('ecdsa-sha2-')) {
    const curve = curves[key.type.slice(11)];
    const rs = new Reader(bytes);
    const p1363 = Buffer.concat([leftPad(rs.mpint(), curve.size), leftPad(rs.mpint(), curve.size)]);
    return type === key.type && rs.done() && verify(curve.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, p1363);
  }
  return rsaHashes[type] !== undefined && verify(rsaHashes[type], data, key.key, bytes);
}
