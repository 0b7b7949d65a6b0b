import { dispatch } from '../actors/ask.js';
import type { ActorRef } from '../actors/ref.js';
import { startNode, type Node, type NodeOptions } from '../net/node.js';
import type { TopologyName } from './config.js';
import type { DeployOptions } from './deployment.js';
import { SwarmDeployment, type DeploymentParts } from './swarm-deployment.js';

/** What an operator may ask of any cluster deployment's node: its status, a training run, and fault injection. */
export type OperatorMessage<Status> =
  | { readonly type: 'status'; readonly replyTo: ActorRef<Status> }
  | { readonly type: 'train'; readonly episodes: number; readonly replyTo: ActorRef<Status> }
  | { readonly type: 'partition'; readonly nodes: readonly string[]; readonly replyTo: ActorRef<true> }
  | { readonly type: 'heal'; readonly replyTo: ActorRef<true> };

/** A cluster deployment as its control actor drives it. */
interface Operated<Status> {
  readonly node: Node;
  status(): Promise<Status>;
  run(options: { readonly episodes: number }): Promise<unknown>;
}

/** Answers an operator's message as every cluster deployment does. */
export async function answerOperator<Status>(deployment: Operated<Status>, message: OperatorMessage<Status>): Promise<void> {
  switch (message.type) {
    case 'status':
      dispatch(message.replyTo, await deployment.status());
      return;
    case 'train':
      await deployment.run({ episodes: message.episodes });
      dispatch(message.replyTo, await deployment.status());
      return;
    case 'partition':
      deployment.node.partition(message.nodes);
      dispatch(message.replyTo, true);
      return;
    case 'heal':
      deployment.node.heal();
      dispatch(message.replyTo, true);
      return;
  }
}

/** A deployment's parts and its node on the network; if the node cannot start, the parts are closed again. */
export async function startClusterParts(
  topology: TopologyName,
  options: DeployOptions & { readonly node: Omit<NodeOptions, 'runtime'> },
  protocol: 'quic' | 'http2',
): Promise<{ readonly parts: DeploymentParts; readonly node: Node }> {
  const parts = SwarmDeployment.prepare(topology, { askTimeoutMs: 10_000, ...options });
  try {
    return { parts, node: await startNode({ protocol, ...options.node, runtime: parts.runtime }) };
  } catch (error) {
    await parts.runtime.stop();
    await parts.persistence.close();
    throw error;
  }
}

/**
 * Runs work one piece at a time, in the order asked, whether or not an
 * earlier piece failed: a control message's training run waits for the
 * command line's, and a hand-back for the round it must not interleave with.
 */
export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.last.then(work);
    this.last = next.catch(() => undefined);
    return next;
  }
}
