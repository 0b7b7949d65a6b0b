import type { ActorRef } from '../actors/ref.js';
import type { ExportReply } from '../agents/messages.js';
import type { ScreenOptions } from '../agents/recent.js';
import type { BundleSelection } from '../memory/bundle.js';
import type { Pattern } from '../memory/pattern.js';
import type { DeploymentEvents } from './events.js';
import type { AgentHandle, Swarm } from './swarm.js';

/**
 * Carries patterns between the agents of a deployment, each pattern to each
 * agent once per version: a pattern is sent again only after it changed.
 * Counts what it carried and what the receivers refused, and publishes a
 * `transfer` event per delivery.
 */
export class Courier {
  /** Deliveries that wrote something, patterns written, and patterns the receivers' screening refused. */
  transfers = 0;
  patterns = 0;
  refused = 0;
  /** Per receiver, the version of each pattern already sent to it. */
  private readonly sent = new Map<string, Map<string, number>>();

  constructor(
    private readonly swarm: Swarm,
    private readonly events: DeploymentEvents,
  ) {}

  /** The patterns `source` originated that `select` matches, or undefined if it did not answer. */
  async collect(source: AgentHandle, select: Omit<BundleSelection, 'origin'>): Promise<readonly Pattern[] | undefined> {
    const exported = await this.swarm.request(source, (replyTo: ActorRef<ExportReply>) => ({ type: 'export', select: { ...select, origin: source.id }, replyTo }));
    if (exported?.ok !== true) return undefined;
    return this.swarm.patternsOf(exported.bundle);
  }

  /** Delivers to `target` those of `patterns` it has not had at their version; resolves with how many it wrote. */
  async deliver(from: string, patterns: readonly Pattern[], target: AgentHandle, screen?: ScreenOptions): Promise<number> {
    const sent = this.sent.get(target.id) ?? new Map<string, number>();
    this.sent.set(target.id, sent);
    const fresh = patterns.filter((p) => (sent.get(p.id) ?? 0) < p.version);
    if (fresh.length === 0) return 0;
    const imported = await this.swarm.give(target, fresh, screen);
    if (imported?.ok !== true) return 0;
    for (const p of fresh) sent.set(p.id, p.version);
    this.transfers++;
    this.patterns += imported.imported.length;
    this.refused += imported.screened.length;
    this.events.publish({ type: 'transfer', from, to: target.id, patterns: imported.imported.length, at: this.swarm.runtime.clock.now() });
    return imported.imported.length;
  }
}
