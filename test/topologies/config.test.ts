import { describe, expect, it } from 'vitest';
import { DeploymentConfigError, parseDeploymentConfig } from '../../src/topologies/config.js';

/** The reference's configs, exactly as DESIGN.md writes them. */
const REFERENCE = [
  { topology: 'mesh', agentCount: 5, learningRate: 0.01, syncProtocol: 'quic', consensusThreshold: 0.67 },
  { topology: 'hierarchical', leader: { learningRate: 0.005, memorySize: 50000 }, workers: { count: 4, learningRate: 0.01, memorySize: 10000 } },
  { topology: 'ring', agentCount: 4, learningRate: 0.01, transferInterval: 15 },
  { topology: 'auto-scale', initialAgents: 2, maxAgents: 10, scaleUpTrigger: { newPatterns: 20 }, scaleDownTrigger: { memoryReduction: 0.3 }, vixAdaptation: true },
  {
    topology: 'multi-strategy',
    strategies: ['momentum', 'mean-reversion', 'breakout'],
    marketConditions: ['trending', 'ranging', 'volatile'],
    metaLearning: true,
    rotationInterval: 10,
  },
  { topology: 'blue-green', blue: { agents: 2, version: 'v1.0' }, green: { agents: 2, version: 'v2.0' }, knowledgeTransfer: true, abTesting: true, rollbackPreservation: true },
] as const;

function refusal(input: unknown): DeploymentConfigError {
  try {
    parseDeploymentConfig(input);
  } catch (error) {
    if (error instanceof DeploymentConfigError) return error;
    throw error;
  }
  throw new Error('expected a DeploymentConfigError');
}

describe('deployment configs', () => {
  it('accept every reference config as written', () => {
    for (const config of REFERENCE) expect(parseDeploymentConfig(config)).toMatchObject(config);
  });

  it('fill in what a config leaves out with the reference values', () => {
    expect(parseDeploymentConfig({ topology: 'mesh' })).toEqual({ ...REFERENCE[0], validateOnRecentData: false });
    expect(parseDeploymentConfig({ topology: 'ring' })).toEqual(REFERENCE[2]);
  });

  it('name an unknown topology and list the known ones', () => {
    const error = refusal({ topology: 'star', agentCount: 3 });
    expect(error).toMatchObject({ code: 'DEPLOYMENT_CONFIG', key: 'topology' });
    expect(error.message).toContain('"star"');
    expect(error.message).toContain('mesh, hierarchical, ring, auto-scale, multi-strategy, blue-green');
    expect(refusal({ agentCount: 3 }).key).toBe('topology');
    expect(refusal('mesh').key).toBe('');
  });

  it('name a key the topology does not know, nested ones by their path', () => {
    expect(refusal({ topology: 'mesh', agentCount: 5, consensus: 0.6 }).key).toBe('consensus');
    expect(refusal({ topology: 'hierarchical', leader: { learningRate: 0.005, memory: 10 } }).key).toBe('leader.memory');
  });

  it('name a value out of range', () => {
    expect(refusal({ topology: 'mesh', consensusThreshold: 1.5 }).key).toBe('consensusThreshold');
    expect(refusal({ topology: 'mesh', agentCount: 1 }).key).toBe('agentCount');
    expect(refusal({ topology: 'auto-scale', initialAgents: 4, maxAgents: 2 }).key).toBe('maxAgents');
    expect(refusal({ topology: 'multi-strategy', strategies: ['momentum', 'astrology'] }).key).toBe('strategies.1');
    expect(refusal({ topology: 'blue-green', blue: { agents: 0, version: 'v1.0' } }).key).toBe('blue.agents');
  });

  it('refuse a strategy or market condition named twice, naming the repeat, since the swarm would run it once', () => {
    const strategies = refusal({ topology: 'multi-strategy', strategies: ['momentum', 'mean-reversion', 'momentum'] });
    expect(strategies).toMatchObject({ code: 'DEPLOYMENT_CONFIG', key: 'strategies.2' });
    expect(strategies.message).toBe('deployment config key strategies.2: repeats "momentum" (index 0); each may appear once');
    expect(refusal({ topology: 'multi-strategy', marketConditions: ['volatile', 'volatile'] }).key).toBe('marketConditions.1');
  });

  it('accept the auto-scale vix triggers (ours, not the reference’s) and refuse a scale-down level not below the scale-up one, naming the key', () => {
    const triggers = { scaleUpTrigger: { newPatterns: 20, vix: 60 }, scaleDownTrigger: { memoryReduction: 0.3, vix: 40 } };
    expect(parseDeploymentConfig({ topology: 'auto-scale', ...triggers })).toMatchObject(triggers);
    expect(parseDeploymentConfig({ topology: 'auto-scale', scaleUpTrigger: { newPatterns: 20, vix: 60 } })).toMatchObject({ scaleDownTrigger: { memoryReduction: 0.3 } });
    const error = refusal({ topology: 'auto-scale', scaleUpTrigger: { newPatterns: 20, vix: 40 }, scaleDownTrigger: { memoryReduction: 0.3, vix: 40 } });
    expect(error.key).toBe('scaleDownTrigger.vix');
    expect(error.message).toContain('must be below scaleUpTrigger.vix');
    expect(refusal({ topology: 'auto-scale', scaleUpTrigger: { newPatterns: 20, vix: 0 } }).key).toBe('scaleUpTrigger.vix');
  });
});
