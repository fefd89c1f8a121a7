/** The programs whose flags are documented in their README. */
export const DOCUMENTED: string[];
/** The components with a Helm chart of their own. */
export const CHARTED: string[];
/** Every generated file: [path relative to the repository root, the content it must have]. */
export function generated(): Promise<[string, string][]>;
/** The generated files whose content on disk differs. */
export function stale(): Promise<{ file: string; content: string }[]>;
/** Every flag of a program, as its --help lists them. */
export function flagsOf(
  name: string,
): Promise<{ flags: { name: string; action?: boolean }[]; schema: unknown; fileFlag: string }>;
