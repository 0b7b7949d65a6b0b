import { describe, expect, it } from 'vitest';
import { Mailbox } from '../../src/actors/mailbox.js';

describe('mailbox', () => {
  it('keeps FIFO order across growth and wrap-around', () => {
    const mailbox = new Mailbox<number>();
    const expected: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round * 7; i++) {
        mailbox.push(next);
        expected.push(next++);
      }
      for (let i = 0; i < round * 5 && expected.length > 0; i++) expect(mailbox.shift()).toBe(expected.shift());
    }
    expect(mailbox.size).toBe(expected.length);
    expect(mailbox.drainAll()).toEqual(expected);
    expect(mailbox.size).toBe(0);
    expect(mailbox.shift()).toBeUndefined();
  });

  it('holds undefined as a message like any other', () => {
    const mailbox = new Mailbox<number | undefined>();
    mailbox.push(undefined);
    mailbox.push(1);
    expect(mailbox.size).toBe(2);
    expect(mailbox.drainAll()).toEqual([undefined, 1]);
  });

  it('gives its buffer back once it empties after a burst, and keeps working', () => {
    const mailbox = new Mailbox<number>();
    for (let i = 0; i < 100_000; i++) mailbox.push(i);
    for (let i = 0; i < 100_000; i++) expect(mailbox.shift()).toBe(i);
    expect((mailbox as unknown as { items: unknown[] }).items.length).toBeLessThanOrEqual(4);
    mailbox.push(7);
    expect(mailbox.shift()).toBe(7);
  });
});
