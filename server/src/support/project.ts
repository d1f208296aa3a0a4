// Where the project lives, for links the server hands out (diagnostics' codeDescription).
// Must equal `repository.url` in package.json and server/package.json (a unit test checks it).

export const REPOSITORY_URL = 'https://github.com/subsecond-lsp/subsecond-lsp';

/** The section of docs/findings.md that explains a finding code. */
export function findingDocUrl(code: string): string {
  return `${REPOSITORY_URL}/blob/main/docs/findings.md#${code}`;
}
