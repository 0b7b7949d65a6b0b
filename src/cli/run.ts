import { Command } from 'commander';
import { DeploymentConfigError, isTopologyName, parseDeploymentConfig, TOPOLOGIES, type TopologyName } from '../topologies/config.js';
import { withAgentCount } from '../topologies/agent-count.js';
import { deploy } from '../topologies/deploy.js';
import type { DeploymentMetrics } from '../topologies/deployment.js';
import { logDeployment } from '../topologies/logging.js';
import { exposeDeploymentMetrics } from '../topologies/prometheus.js';
import { nonNegativeInteger, positiveInteger, seed } from './arguments.js';
import { ConfigFileError, readConfigFile } from './config-file.js';
import { fixed, percent, sparkline, table } from './format.js';
import { loadBars } from './data.js';
import { armInjections, parseInjection, type Injection } from './inject.js';
import { cliLogger } from './logger.js';
import { serveMetrics } from './metrics-server.js';

export interface RunCommandOptions {
  readonly write?: (text: string) => void;
  /** Where progress goes; shown only on a TTY and never with `--json`. Default: standard error. */
  readonly progress?: NodeJS.WriteStream;
}

interface Flags {
  readonly agents?: number;
  readonly episodes: number;
  readonly seed: number;
  readonly config?: string;
  readonly dataDir?: string;
  readonly json?: boolean;
  readonly metricsPort?: number;
  readonly verbose?: boolean;
  readonly data?: string;
  readonly inject: readonly Injection[];
}

/**
 * `swarmbank run <topology>`: one deployment on the seeded simulator (or
 * real bars with `--data`) with the reference config of its topology (or
 * `--config`), faults injected between episodes with `--inject`, its metrics
 * printed as tables, or the metrics object alone with `--json`. Progress is
 * a bar on a terminal and one line per episode otherwise, on standard error.
 */
export function runCommand(options: RunCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const progress = options.progress ?? process.stderr;
  return new Command('run')
    .description('Run one deployment topology on the seeded market simulator and print its metrics.')
    .argument('<topology>', TOPOLOGIES.join(' | '))
    .option('--agents <n>', 'agents: agentCount, workers.count, initialAgents, or agents per blue/green group', positiveInteger)
    .option('--episodes <n>', 'training episodes', positiveInteger, 30)
    .option('--seed <n>', 'seed of the market and of every random choice', seed, 1)
    .option('--config <file.json>', 'the deployment config as the reference writes it (its topology must match)')
    .option('--data <sp500|file.csv>', 'learn from real bars instead of the simulator: the S&P 500 daily series, or an OHLCV CSV file')
    .option('--inject <spec>', 'a fault before an episode, repeatable: <crash|stop>:<actor>@episode:<n>', (spec: string, all: Injection[]) => [...all, parseInjection(spec)], [])
    .option('--data-dir <dir>', 'keep agent memories and journals under this directory (default: temporary, removed)')
    .option('--json', 'print the metrics object alone, as JSON')
    .option('--verbose', 'log every sync and vote (debug level) as well as crashes, restarts and decisions')
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://127.0.0.1:<port>/metrics while it runs (0: any free port)', nonNegativeInteger)
    .addHelpText('after', '\nExamples:\n  swarmbank run mesh\n  swarmbank run mesh --metrics-port 9464\n  swarmbank run hierarchical --agents 8 --episodes 50 --seed 3\n  swarmbank run mesh --config mesh.json --json\n  swarmbank run mesh --inject crash:agent-2@episode:10 --inject stop:agent-4@episode:20\n  swarmbank run ring --data sp500 --episodes 40')
    .action(async (topology: string, flags: Flags) => {
      if (!isTopologyName(topology)) throw new DeploymentConfigError('topology', `unknown topology ${JSON.stringify(topology)}; expected one of ${TOPOLOGIES.join(', ')}`);
      const config = configFor(topology, flags);
      const bars = flags.data === undefined ? undefined : await loadBars(flags.data);
      const deployment = deploy(config, {
        seed: flags.seed,
        maxEpisodes: flags.episodes,
        ...(bars === undefined ? {} : { market: { bars } }),
        ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
      });
      const server = flags.metricsPort === undefined ? undefined : await serveMetrics(exposeDeploymentMetrics(deployment), flags.metricsPort);
      if (server !== undefined) progress.write(`metrics on http://127.0.0.1:${server.port}/metrics\n`);
      const logger = cliLogger(flags.verbose === true);
      const stopLogging = logDeployment(deployment, logger);
      const bar = flags.json !== true && progress.isTTY === true;
      const unsubscribe = deployment.events.on('episode', (e) =>
        progress.write(bar ? `\r${progressBar(topology, e.episode, flags.episodes, e.accuracy)}\x1b[K` : `${topology} episode ${e.episode}/${flags.episodes} accuracy ${percent(e.accuracy)}\n`),
      );
      let disarm: () => void = () => undefined;
      try {
        disarm = armInjections(deployment, flags.inject, (injection, path, fired) =>
          logger.warn({ path, episode: injection.episode, action: injection.action, fired }, fired ? 'fault injected' : 'fault skipped: the actor was gone'),
        );
        const metrics = await deployment.run({ episodes: flags.episodes });
        if (bar) progress.write('\r\x1b[K');
        write(flags.json === true ? `${JSON.stringify(metrics, null, 2)}\n` : formatMetrics(metrics));
      } finally {
        disarm();
        unsubscribe();
        stopLogging();
        await server?.close();
        await deployment.stop();
      }
    });
}

/** The file's config, or the reference one, with `--agents` applied where the topology counts its agents. */
function configFor(topology: TopologyName, flags: Flags): unknown {
  const base: Record<string, unknown> = flags.config === undefined ? { topology } : readConfigFile(flags.config);
  if (base['topology'] !== topology) {
    throw new ConfigFileError(flags.config ?? '', `has topology ${JSON.stringify(base['topology'])}, but the command runs ${topology}`);
  }
  const config = parseDeploymentConfig(base);
  return flags.agents === undefined ? config : withAgentCount(config, flags.agents);
}

function progressBar(topology: string, episode: number, of: number, accuracy: number): string {
  const width = 30;
  const done = Math.round((episode / of) * width);
  return `${topology} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${episode}/${of}  accuracy ${percent(accuracy)}`;
}

/** The metrics as printed: every figure is read from `metrics`. */
export function formatMetrics(metrics: DeploymentMetrics): string {
  const lines = [
    `${metrics.topology} (seed ${metrics.seed}, ${metrics.agents} agents, ${metrics.episodes} episodes, ${(metrics.wallMs / 1000).toFixed(1)} s)`,
    `config ${JSON.stringify(metrics.config)}`,
    '',
    `accuracy ${percent(metrics.accuracy)} (oracle ${percent(metrics.oracleAccuracy)}), converged at episode ${metrics.convergenceEpisode ?? 'never'}; ` +
      `${metrics.messages} messages, ${(metrics.bytesExchanged / 1024).toFixed(0)} KiB of patterns exchanged; ${metrics.crashes} crashes, ${metrics.restarts} restarts`,
    '',
    ...table(
      ['agent', 'accuracy', 'patterns', 'episodes', 'restarts', 'live'],
      metrics.perAgent.map((a) => [a.id, percent(a.accuracy), Number.isFinite(a.patterns) ? String(a.patterns) : 'n/a', String(a.episodesTrained), String(a.restarts), a.live ? 'yes' : 'no']),
    ),
    '',
    `${metrics.topology}:`,
    ...flatten(metrics.topologyMetrics as unknown as Record<string, unknown>).map(([key, value]) => `  ${key}: ${value}`),
    '',
    `learning curve (held-out accuracy after each episode): ${sparkline(metrics.learningCurve.map((p) => p.accuracy))}`,
    '',
  ];
  return lines.join('\n');
}

/** Scalars and short lists of a topology's own figures, as `path: value` lines; long series are left to `--json`. */
function flatten(value: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(value).flatMap(([key, item]): [string, string][] => {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof item === 'number') return [[name, Number.isInteger(item) ? String(item) : fixed(item)]];
    if (typeof item === 'string' || typeof item === 'boolean') return [[name, String(item)]];
    if (Array.isArray(item)) return item.length <= 12 && item.every((x) => typeof x !== 'object') ? [[name, item.join(', ')]] : [[name, `${item.length} entries (see --json)`]];
    if (item !== null && typeof item === 'object') return flatten(item as Record<string, unknown>, name);
    return [];
  });
}
