import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The packages whose versions a report names, so a reader can tell what produced its figures. */
const PACKAGES = ['nact', 'lmdb', 'msgpackr', 'usearch', 'vega', 'vega-lite'] as const;

/** swarmbank's own version, Node's, and those of the libraries that shape the figures. */
export function versions(): Record<string, string> {
  const found: Record<string, string> = { swarmbank: readVersion('../../../package.json'), node: process.versions.node };
  for (const name of PACKAGES) found[name] = readVersion(`${name}/package.json`);
  return found;
}

function readVersion(specifier: string): string {
  try {
    return (require(specifier) as { version?: string }).version ?? 'unknown';
  } catch {
    // Some packages hide package.json behind their exports map: find it beside the entry point instead.
    try {
      const entry = require.resolve(specifier.replace(/\/package\.json$/, ''));
      const root = entry.slice(0, entry.lastIndexOf(`node_modules/${specifier.replace(/\/package\.json$/, '')}`));
      return (require(`${root}node_modules/${specifier}`) as { version?: string }).version ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }
}
