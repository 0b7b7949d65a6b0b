import { dispatch } from '../actors/ask.js';
import { type Behaviour, stateless } from '../actors/behaviour.js';
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

/** What a control actor tells itself when an answer it started failed; a symbol, so no peer can send it. */
const ANSWER_FAILED = Symbol('answer-failed');

interface AnswerFailed {
  readonly [ANSWER_FAILED]: Error;
}

/**
 * The behaviour of a node's control actor. An actor awaits each message
 * before it takes the next, and an operator's messages do not all take
 * alike: a training run takes minutes, a sync waits out the ask timeout of
 * a peer that just went away, while a partition, a heal or a status takes
 * a moment. Awaited one after the other, a partition sent during a sync or
 * a run went unanswered until it ended, and the operator's ask timed out
 * with the node alive and well. So each answer runs on its own and the
 * actor takes the next message at once: what must not interleave is kept
 * apart where it runs (training runs one at a time, pulls are merged). An
 * answer that fails is still the actor's failure: it fails on it, and its
 * supervisor sees the error as before.
 */
export function controlBehaviour<Msg extends object>(answer: (message: Msg) => Promise<void>): Behaviour<Msg> {
  return stateless<Msg | AnswerFailed>((message, ctx) => {
    // Whatever a peer sends arrives here too, a malformed message included: it must not crash the actor.
    if (typeof message === 'object' && message !== null && ANSWER_FAILED in message) throw message[ANSWER_FAILED];
    answer(message).catch((error: unknown) => {
      dispatch(ctx.self, { [ANSWER_FAILED]: error instanceof Error ? error : new Error(String(error)) });
    });
  }) as Behaviour<Msg>;
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
