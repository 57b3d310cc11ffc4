/** An expected failure: the message says what was wrong and what to do; exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = { clean: 0, findings: 1, unusable: 2 } as const;
