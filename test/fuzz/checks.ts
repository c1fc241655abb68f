import type { Operation } from './operations.js';

/** What the fuzzers see of an answer, from `inject()` or a raw socket alike. */
export type Answer = {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
};

/**
 * Text that must never reach a client: SQL, PostgreSQL's messages, stack frames and source paths.
 * (A 5xx body is generic; the cause belongs in the log under the request id.)
 */
export const LEAK_PATTERNS: RegExp[] = [
  /\b(select|insert|update|delete)\b[\s\S]*\b(from|into|set)\b/i,
  /invalid input syntax/i,
  /out of range for type/i,
  /invalid byte sequence/i,
  /violates .* constraint/i,
  /duplicate key value/i,
  /syntax error at or near/i,
  /index row size/i,
  /\bat Object\./,
  /\bat [\w$.<>]+ \((?:file:|node:|\/)/,
  /\.ts:\d+/,
  /node:internal/,
  /node_modules/,
];

export const leakIn = (text: string) => LEAK_PATTERNS.find((pattern) => pattern.test(text));

const isProblem = (contentType: unknown) =>
  String(contentType ?? '').startsWith('application/problem+json');

/**
 * The rules every answer follows, as the names of the ones it breaks: no 5xx; a request invalid
 * by construction gets a 4xx; a 4xx is problem+json (`type`, `title`, `status`, `code`) with an
 * `x-request-id`; no body leaks SQL or a stack. The browser OAuth routes may answer a 400 with
 * the HTML page their document declares.
 */
export function brokenRules(
  op: Pick<Operation, 'responses'> | undefined,
  answer: Answer,
  mustFail: boolean,
): string[] {
  const broken: string[] = [];
  const { status } = answer;
  if (status >= 500) broken.push('5xx');
  if (mustFail && status < 400) broken.push('invalid request accepted');
  const leak = status >= 400 ? leakIn(answer.body) : undefined;
  if (leak) broken.push(`leaks ${leak.source.slice(0, 30)}`);
  if (status < 400 || status >= 500) return broken;
  if (!answer.headers['x-request-id']) broken.push('4xx without x-request-id');
  const type = String(answer.headers['content-type'] ?? '');
  if (!isProblem(type)) {
    const html = (op?.responses[String(status)] ?? []).includes('text/html');
    if (!(html && type.startsWith('text/html'))) broken.push('4xx not problem+json');
    return broken;
  }
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(answer.body);
  } catch {
    broken.push('problem body not JSON');
    return broken;
  }
  if (typeof problem.type !== 'string' || typeof problem.title !== 'string') {
    broken.push('problem without type and title');
  }
  if (problem.status !== status) broken.push('problem status differs');
  if (typeof problem.code !== 'string' || problem.code === '') broken.push('problem without code');
  return broken;
}
