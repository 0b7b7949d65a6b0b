import { X509Certificate, createHash, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { TransportError } from './errors.js';

/**
 * TLS identity of a node. WebTransport clients that pin a certificate by hash
 * (`serverCertificateHashes`) accept only ECDSA certificates valid for at most
 * 14 days, so nodes make their own and rotate them before they expire.
 */
export interface NodeCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the certificate's DER bytes: what clients pin. */
  readonly hash: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The longest validity a pinned WebTransport certificate may have. */
export const MAX_PINNED_VALIDITY_DAYS = 14;
const DAY_MS = 86_400_000;
/** Starts validity slightly in the past so a peer's clock a little behind ours still accepts it. */
const BACKDATE_MS = 60_000;

export interface GenerateCertificateOptions {
  /** Validity from `now` minus one minute; at most 14 days. Default 13. */
  readonly days?: number;
  /** Subject alternative names: IP addresses or DNS names. Default 127.0.0.1, ::1, localhost. */
  readonly hosts?: readonly string[];
  readonly commonName?: string;
  readonly now?: Date;
}

/** A fresh self-signed ECDSA P-256 / SHA-256 certificate and its key. */
export async function generateCertificate(options: GenerateCertificateOptions = {}): Promise<NodeCertificate> {
  const days = options.days ?? 13;
  if (!(days > 0 && days <= MAX_PINNED_VALIDITY_DAYS)) {
    throw new TransportError(
      'TRANSPORT_CERTIFICATE',
      `certificate validity must be within (0, ${MAX_PINNED_VALIDITY_DAYS}] days for hash pinning, got ${days}`,
    );
  }
  const hosts = options.hosts ?? ['127.0.0.1', '::1', 'localhost'];
  const now = options.now?.getTime() ?? Date.now();
  const notBefore = new Date(Math.floor((now - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + days * DAY_MS);
  // Loaded only when a certificate is made: it brings a global reflect-metadata polyfill.
  const x509 = await import('@peculiar/x509');
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  type Params = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>;
  const crypto = webcrypto;
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=${options.commonName ?? 'swarmbank node'}`,
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      keys: keys as Params[0]['keys'],
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          hosts.map((host) => (isIP(host) ? { type: 'ip' as const, value: host } : { type: 'dns' as const, value: host })),
        ),
      ],
    },
    crypto as unknown as Params[1],
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = toPem('PRIVATE KEY', pkcs8);
  return loadCertificate(cert.toString('pem'), keyPem);
}

/** Reads a PEM certificate (the user's own, or one made here) with its key. */
export function loadCertificate(certPem: string, keyPem: string): NodeCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (cause) {
    throw new TransportError('TRANSPORT_CERTIFICATE', 'not a PEM X.509 certificate', { cause });
  }
  return {
    certPem,
    keyPem,
    hash: new Uint8Array(createHash('sha256').update(cert.raw).digest()),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

/** SHA-256 of a PEM certificate's DER bytes, as `serverCertificateHashes` wants it. */
export function certificateHash(certPem: string): Uint8Array {
  return loadCertificate(certPem, '').hash;
}

/** True when the certificate expires within `withinDays` of `now` (or already has): time to make a new one. */
export function needsRotation(cert: Pick<NodeCertificate, 'notAfter'>, withinDays = 2, now: Date = new Date()): boolean {
  return cert.notAfter.getTime() - now.getTime() <= withinDays * DAY_MS;
}

/** True when clients may pin this certificate by hash: validity of at most 14 days. */
export function isPinnable(cert: Pick<NodeCertificate, 'notBefore' | 'notAfter'>): boolean {
  return cert.notAfter.getTime() - cert.notBefore.getTime() <= MAX_PINNED_VALIDITY_DAYS * DAY_MS;
}

function toPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
