import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '@dds/test-support';

/** A fenced code block of a Markdown file, as a reader would copy it. */
export interface Block {
  /** repository-relative path */
  file: string;
  /** 1-based line of the opening fence */
  line: number;
  lang: string;
  /** the block's text, its list indentation removed */
  text: string;
  /** why the block is not run: `# not run: REASON` as its first line */
  notRun?: string;
  /** the nearest heading above the block */
  heading: string;
}

/** The convention, visible in the block itself, for the few examples that cannot run here. */
export const NOT_RUN = /^#\s*not run:\s*(.*)$/;

/** Every Markdown file whose examples are tested: the READMEs and docs/. */
export function documentedFiles(): string[] {
  const packages = readdirSync(join(ROOT, 'packages'))
    .map((p) => join('packages', p, 'README.md'))
    .filter((f) => exists(f));
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));
  return ['README.md', ...packages.sort(), ...docs.sort()];
}

function exists(file: string): boolean {
  try {
    readFileSync(join(ROOT, file));
    return true;
  } catch {
    return false;
  }
}

/** The fenced blocks of one file in the given languages (all when omitted). */
export function extractBlocks(file: string, langs?: readonly string[]): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const out: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,6}\s+(.*)$/.exec(lines[i]!);
    if (h) heading = h[1]!;
    const open = /^(\s*)(`{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open as unknown as [string, string, string, string];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j]!)) j++;
    const body = lines
      .slice(i + 1, j)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    if (!langs || langs.includes(lang)) {
      const first = NOT_RUN.exec(body[0] ?? '');
      out.push({
        file: relative(ROOT, join(ROOT, file)),
        line: i + 1,
        lang,
        text: `${body.join('\n')}\n`,
        heading,
        ...(first ? { notRun: first[1]!.trim() } : {}),
      });
    }
    i = j;
  }
  return out;
}

/**
 * The commands of a shell block, one per complete shell command: lines are joined until bash
 * parses them (continuations, `for ... done`, quotes spanning lines); blank and comment-only lines
 * between commands are dropped (a trailing comment stays: bash ignores it).
 */
export function shellCommands(text: string): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    if (cur.length === 0 && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    cur.push(line);
    const joined = cur.join('\n');
    if (line.trimEnd().endsWith('\\')) continue;
    if (spawnSync('bash', ['-n'], { input: joined }).status === 0) {
      out.push(joined.trim());
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur.join('\n').trim());
  return out;
}
