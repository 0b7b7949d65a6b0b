import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  certificateHash,
  generateCertificate,
  isPinnable,
  needsRotation,
} from '../../src/net/certificate.js';

const DAY = 86_400_000;

describe('certificate', () => {
  it('makes a self-signed ECDSA P-256 certificate that clients may pin by hash', async () => {
    const cert = await generateCertificate({ days: 14 });
    const x509 = new X509Certificate(cert.certPem);
    expect(x509.publicKey.asymmetricKeyType).toBe('ec');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(isPinnable(cert)).toBe(true);
    expect(cert.hash.byteLength).toBe(32);
    expect(Buffer.from(certificateHash(cert.certPem)).equals(Buffer.from(cert.hash))).toBe(true);
  });

  it('refuses a validity longer than 14 days', async () => {
    await expect(generateCertificate({ days: 15 })).rejects.toMatchObject({ code: 'TRANSPORT_CERTIFICATE' });
  });

  it('says to rotate once the certificate is within the given days of expiry', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const cert = await generateCertificate({ days: 10, now });
    expect(needsRotation(cert, 2, now)).toBe(false);
    expect(needsRotation(cert, 2, new Date(now.getTime() + 7 * DAY))).toBe(false);
    expect(needsRotation(cert, 2, new Date(now.getTime() + 8.5 * DAY))).toBe(true);
    expect(needsRotation(cert, 2, new Date(now.getTime() + 11 * DAY))).toBe(true);
  });
});
