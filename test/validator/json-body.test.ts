import { describe, expect, it } from 'vitest';
import { LeaseResponse } from '../../src-shared/protocol';
import { leaseAnswerBody } from '../../src-validator/http/json-body';
import type { LeaseAnswer } from '../../src-validator/service/leasing';

/** The answer as the service hands it over: documents encoded one by one (here by JSON.stringify; the store's own encoding is tested through the API). */
const asLeaseAnswer = (answer: LeaseResponse): LeaseAnswer => {
  if (answer.kind !== 'task') return answer;
  const { documents, ...task } = answer.task;
  return { kind: 'task', task, documentsJson: documents.map((d) => Buffer.from(JSON.stringify(d))) };
};

const decode = (answer: LeaseResponse) => {
  const body = leaseAnswerBody(asLeaseAnswer(answer));
  const bytes = Buffer.concat(body.pieces);
  expect(bytes.length).toBe(body.bytes);
  return JSON.parse(bytes.toString('utf8')) as unknown;
};

describe('lease answers encoded in pieces', () => {
  it('decode to the same answer, texts with quotes, escapes and non-ASCII included', () => {
    const answer: LeaseResponse = {
      kind: 'task',
      task: {
        taskId: 't-0123456789abcdef01234567',
        k: 16,
        seqLen: 1024,
        modelHash: 'ab'.repeat(32),
        deadlineAtMs: 1_800_000_000_000,
        tokens: 42,
        documents: [
          { docId: '<urn:uuid:1>', text: 'He said "hi"\\n\nand left.\ttab \u0000 nul' },
          { docId: '<urn:uuid:2>', text: 'Zürich, 東京, emoji 🙂, lone \ud800 surrogate' },
          { docId: '<urn:uuid:3>', text: 'x'.repeat(70_000) },
        ],
      },
    };
    expect(decode(answer)).toEqual(JSON.parse(JSON.stringify(answer)));
    expect(LeaseResponse.parse(decode(answer))).toEqual(LeaseResponse.parse(JSON.parse(JSON.stringify(answer))));
  });

  it('encode a one-document task and a no-work answer', () => {
    const one: LeaseResponse = {
      kind: 'task',
      task: { taskId: 't-1', k: 4, seqLen: 8, modelHash: 'cd'.repeat(32), deadlineAtMs: 1, documents: [{ docId: 'd', text: 't' }] },
    };
    expect(decode(one)).toEqual(one);
    const none: LeaseResponse = { kind: 'no-work', retryAfterMs: 5000 };
    expect(decode(none)).toEqual(none);
  });
});
