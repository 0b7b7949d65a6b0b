export { SwarmbankError } from './errors.js';
export { createRandom, SeedError, MIN_SEED, MAX_SEED, type Random } from './random.js';

export { createRuntime, type Runtime, type RuntimeOptions } from './actors/runtime.js';
export { dispatch, ask, type ReplyOf, type ReplyTo } from './actors/ask.js';
export type { ActorRef, AnyActorRef, Terminated } from './actors/ref.js';
export {
  stateful,
  stateless,
  persistent,
  type Behaviour,
  type StatefulBehaviour,
  type StatelessBehaviour,
  type PersistentBehaviour,
  type ActorContext,
  type PersistentContext,
  type SpawnOptions,
} from './actors/behaviour.js';
export {
  DEFAULT_SUPERVISION,
  decideByErrorClass,
  type Directive,
  type SupervisionPolicy,
  type SupervisionStrategy,
} from './actors/supervision.js';
export type { BackoffOptions } from './actors/backoff.js';
export type { Timers } from './actors/timers.js';
export { systemClock, type Clock, type TimerHandle } from './actors/clock.js';
export { EventStream, type AfterEndEvent, type RuntimeEvent, type RuntimeEventType, type EventOf, type StopReason, type DeadLetterReason, type ClusterEvent, type PeerRefusal } from './actors/events.js';
export type { ActorMetrics, ActorStatus, RuntimeMetrics } from './actors/metrics.js';
export { exposeRuntimeMetrics, type PrometheusOptions } from './actors/prometheus.js';
export { serviceKey, Registry, type ServiceKey } from './actors/registry.js';
export { pool, RouterConfigError, type PoolOptions, type Routing } from './actors/router.js';
export {
  createInMemoryPersistence,
  type PersistenceEngine,
  type PersistedEvent,
  type PersistedSnapshot,
} from './persistence.js';
export {
  AskTimeoutError,
  ActorStoppedError,
  SpawnError,
  EscalationError,
  RestartBudgetExceededError,
  SupervisionConfigError,
} from './actors/errors.js';
export {
  withFaults,
  FaultInjector,
  InjectedFaultError,
  ActorKilledError,
  FaultPlanError,
  type FaultRule,
  type FaultAction,
  type FaultTrigger,
  type FaultPlan,
  type FaultStep,
  type FaultStepTrigger,
  type FaultPlanRun,
  type FaultHandle,
} from './actors/faults.js';

export {
  openPatternMemory,
  type PatternMemory,
  type PatternMemoryOptions,
  type PatternReceipt,
  type ConsolidateOptions,
  type ReleaseOptions,
  type ImportOptions,
  type ReplayRange,
  type MemoryBytes,
  type CompactionResult,
  type RestoreSource,
  type SnapshotInfo,
} from './memory/store.js';
export { validatePattern, PatternValidationError, MAX_VERSION, MAX_TIME, type Pattern, type PatternInput, type Outcome } from './memory/pattern.js';
export type { JournalEvent } from './memory/journal.js';
export type { IntegrityReport } from './memory/integrity.js';
export { utility, DEFAULT_RECENCY_HALF_LIFE_MS } from './memory/eviction.js';
export { readMemoryFormat, type MemoryFormatInfo } from './memory/format.js';
export {
  MemoryOptionsError,
  NotAPatternMemoryError,
  CorruptRecordError,
  MemoryFullError,
  PatternNotFoundError,
  JournalError,
  PersistenceConflictError,
  CorruptMemoryFileError,
} from './memory/errors.js';
export { openLmdbPersistence, type LmdbPersistence, type LmdbPersistenceOptions } from './memory/persistence-engine.js';
export {
  VectorIndex,
  VectorIndexError,
  defaultHnswOptions,
  type VectorIndexOptions,
  type HnswOptions,
  type SearchOptions,
  type PatternFacets,
  type VectorMatch,
  type HnswState,
  type HnswLoadReport,
  type IdFilter,
  type UsearchLoader,
  type VectorIndexErrorCode,
} from './memory/vector-index.js';
export {
  QuantizedIndex,
  quantize,
  dequantize,
  codeBytes,
  type QuantizationKind,
  type QuantizedVector,
  type QuantizedIndexOptions,
  type QuantizedSearchOptions,
} from './memory/quantization.js';
export { mmrRerank, type MmrCandidate } from './memory/mmr.js';
export { PatternSearch, type PatternSearchOptions, type PatternMatch, type SearchOpenReport } from './memory/search.js';
export { distill, planDistillation, type DistillOptions, type DistillResult, type DistillMerge, type DistillPlan } from './memory/distill.js';
export {
  consolidate,
  CONSOLIDATED_PLASTICITY,
  DEFAULT_PLASTICITY,
  DEFAULT_EXEMPLAR_CAPACITY,
  type ConsolidationCriterion,
  type ConsolidationOptions,
  type ConsolidationResult,
} from './memory/consolidation.js';
export {
  exportBundle,
  importBundle,
  decodeBundle,
  BundleError,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  type BundleHeader,
  encodeBundle,
  type BundleErrorCode,
  type BundleSelection,
  type ExportOptions,
  type BundleImportOptions,
  type BundleImportResult,
  type DecodedBundle,
} from './memory/bundle.js';
export { InvalidOptionError } from './memory/options.js';

export { simulateMarket, DEFAULT_LENGTH, type MarketOptions, type SimulatedMarket, type SimulatedAsset } from './market/simulator.js';
export { barProblem, type Bar } from './market/bars.js';
export { expectedLogReturn, type LatentState, type VolatilePhase } from './market/latent.js';
export { REGIMES, DEFAULT_TRANSITIONS, stationaryDistribution, type Regime, type TransitionMatrix } from './market/regimes.js';
export { DEFAULT_DYNAMICS, type MarketDynamics } from './market/dynamics.js';
export { DEFAULT_ASSETS, type AssetSpec } from './market/assets.js';
export { TASK_A, TASK_B, type MarketTask } from './market/tasks.js';
export { volatilityRegimeChange, type VolatilityStretch, type VolatilityRegimeChangeOptions } from './market/volatility-profile.js';
export { oraclePrediction, oracleAccuracy, type LatentSeries } from './market/oracle.js';
export { outcomeDirection, scorePredictions, type Direction, type EpisodeWindow, type AccuracyReport } from './market/outcomes.js';
export { alwaysLongAccuracy, majorityClassAccuracy } from './market/baselines.js';
export { volatilityIndex, BARS_PER_YEAR, DEFAULT_VIX_WINDOW, type VixOptions } from './market/vix.js';
export { parseOhlcvCsv, loadOhlcvCsv, type OhlcvSeries } from './market/csv.js';
export { loadSp500, sp500CsvPath } from './market/sp500.js';
export {
  MarketOptionsError,
  CsvFormatError,
  DatasetUnavailableError,
  type CsvRowProblem,
  type CsvFormatErrorCode,
} from './market/errors.js';

export {
  featureSpace,
  featureSpaceId,
  computeFeatures,
  FeatureStream,
  marketCondition,
  DEFAULT_FEATURES,
  FEATURE_VERSION,
  FeatureDefinitionError,
  type FeatureDefinition,
  type FeatureSpace,
  type MarketCondition,
} from './learning/features.js';
export {
  PatternLearner,
  LearnerConfigError,
  type Learner,
  type Prediction,
  type Position,
  type LearnContext,
  type LearnResult,
  type PatternLearnerOptions,
  type LearnerConfigErrorCode,
} from './learning/learner.js';
export {
  runEpisode,
  featureSeries,
  episodeStarts,
  DEFAULT_EPISODE_LENGTH,
  EpisodeOptionsError,
  type FeatureSeries,
  type EpisodeOptions,
  type EpisodeResult,
  type EpisodeMode,
} from './learning/episode.js';
export {
  DEFAULT_BARS_PER_YEAR,
  TradingInputError,
  TradingLedger,
  buyAndHold,
  exposuresFromPredictions,
  holdForHorizon,
  positionExposure,
  predictionExposure,
  sharpeRatio,
  simulateTrading,
  type Sizing,
  type TradingOptions,
  type TradingReport,
  type TradingSummary,
} from './learning/trading.js';
export { PATTERN_NAMES, patternNames, type PatternName } from './learning/pattern-names.js';
export { runScenario } from './learning/scenarios/run.js';
export { runColdStart } from './learning/scenarios/cold-start.js';
export { runWarmStart } from './learning/scenarios/warm-start.js';
export { runTransfer } from './learning/scenarios/transfer.js';
export { runContinual } from './learning/scenarios/continual.js';
export { runForgetting } from './learning/scenarios/forgetting.js';
export {
  SCENARIOS,
  EPISODES_KEY,
  parseScenarioConfig,
  isScenarioName,
  ScenarioConfigError,
  type ScenarioName,
  type ScenarioConfigs,
  type ScenarioInputs,
  type ColdStartConfig,
  type WarmStartConfig,
  type TransferConfig,
  type ContinualConfig,
  type ForgettingConfig,
} from './learning/scenarios/config.js';
export { convergenceEpisode, nearOracleEpisode, finalAccuracy, speedup, type CurvePoint } from './learning/scenarios/curve.js';
export { REFERENCE_CLAIMS, checkClaim, type Claim, type ClaimCheck, type Verdict } from './learning/scenarios/claims.js';
export {
  NEAR_ORACLE_SHARE,
  type ScenarioResult,
  type ScenarioDetails,
  type RunSummary,
  type Comparison,
  type ForgettingRun,
} from './learning/scenarios/result.js';
export type { ScenarioRunOptions, ScenarioProgress } from './learning/scenarios/workbench.js';
export {
  walkForward,
  WalkForwardOptionsError,
  DEFAULT_TRAIN_WINDOW,
  DEFAULT_TEST_BLOCK,
  type WalkForwardOptions,
  type WalkForwardResult,
  type WalkForwardBlock,
  type WalkForwardScores,
  type WalkForwardTrading,
} from './learning/walk-forward.js';

export { agent, type AgentOptions } from './agents/agent.js';
export {
  type AgentMessage,
  type TrainMessage,
  type EvaluateMessage,
  type PredictMessage,
  type ExportMessage,
  type ImportMessage,
  type MaintainMessage,
  type MetricsMessage,
  type EpisodeRequest,
  type AgentReply,
  type AgentRefusal,
  type AgentRefusalCode,
  type EpisodeReply,
  type PredictReply,
  type ExportReply,
  type ImportReply,
  type MaintainReply,
  type ChangesMessage,
  type ChangesReply,
  type IdsMessage,
  type IdsReply,
  type PredictionsMessage,
  type PredictionsReply,
  type ConfigureMessage,
  type ConfigureReply,
  type AgentMetrics,
} from './agents/messages.js';
export { AgentOptionsError, FeatureDimensionsError } from './agents/errors.js';
export { ownedMemoryClosed, type OwnedMemoryOptions } from './agents/owned-memory.js';
export type { AgentLearner, LearnerFactory } from './agents/session.js';

export {
  TOPOLOGIES,
  parseDeploymentConfig,
  isTopologyName,
  DeploymentConfigError,
  type TopologyName,
  type TopologyConfigs,
  type DeploymentConfig,
  type DeploymentInput,
  type MeshConfig,
  type HierarchicalConfig,
  type RingConfig,
  type AutoScaleConfig,
  type MultiStrategyConfig,
  type BlueGreenConfig,
} from './topologies/config.js';
export type {
  Deployment,
  DeploymentMetrics,
  DeployOptions,
  RunOptions,
  AgentReport,
  LatencySummary,
  TopologyMetrics,
} from './topologies/deployment.js';
export { DeploymentEvents, type DeploymentEvent, type DeploymentEventType, type DeploymentEventOf } from './topologies/events.js';
export type { MarketSpec } from './topologies/market-feed.js';
export { MeshDeployment, type MeshDecision } from './topologies/mesh.js';
export { HierarchicalDeployment, type HierarchicalMetrics, type HierarchicalDeployOptions } from './topologies/hierarchical.js';
export { RingDeployment, type RingMetrics } from './topologies/ring.js';
export { AutoScaleDeployment, type AutoScaleMetrics, type AutoScaleOptions } from './topologies/auto-scale.js';
export { vixLearningRate } from './topologies/auto-scale-vix.js';
export { MultiStrategyDeployment, type MultiStrategyMetrics } from './topologies/multi-strategy.js';
export { BlueGreenDeployment, type BlueGreenMetrics, type ABTestReport } from './topologies/blue-green.js';
export { VERSIONS, UnknownVersionError, type VersionConfig } from './topologies/blue-green-versions.js';
export type { Decision, Group } from './topologies/router.js';
export type { TrafficCounts } from './topologies/blue-green-client.js';
export { STRATEGIES, MARKET_CONDITIONS, type Strategy } from './topologies/strategies.js';
export { consensus } from './topologies/vote.js';
export { deploy } from './topologies/deploy.js';
export { withAgentCount } from './topologies/agent-count.js';
export {
  compare,
  REFERENCE_BENCHMARKS,
  CRITICAL_ACTOR,
  type ComparisonReport,
  type CompareOptions,
  type TopologyComparison,
  type ReferenceRow,
  type FaultToleranceResult,
  type ScalabilityResult,
} from './topologies/compare.js';
export { exposeDeploymentMetrics } from './topologies/prometheus.js';
export { logRuntimeEvents, type Logger } from './actors/logging.js';
export { logDeployment } from './topologies/logging.js';

export { FrameError, TransportError, type FrameErrorCode, type TransportErrorCode } from './net/errors.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameWriter,
  encodeFrame,
  readFrames,
  type ByteSink,
  type FrameWriterOptions,
} from './net/frames.js';
export type * from './net/transport.js';
export {
  MAX_PINNED_VALIDITY_DAYS,
  certificateHash,
  generateCertificate,
  isPinnable,
  loadCertificate,
  needsRotation,
  type GenerateCertificateOptions,
  type NodeCertificate,
} from './net/certificate.js';
export { CLOSE_BAD_FRAME, detectHttp3, webTransport, type Http3Availability, type WebTransportOptions } from './net/webtransport.js';
export {
  DEFAULT_LIMITS,
  MAX_TIMER_MS,
  Node,
  NodeConfigError,
  parsePeer,
  startNode,
  type MemberInfo,
  type NodeCounters,
  type NodeLimits,
  type NodeOptions,
  type PeerAddress,
} from './net/node.js';
export type { LinkCounters, MemberStatus } from './net/link.js';
export { ClusterSecretError, HandshakeError, clusterSecret, type NodeIdentity } from './net/handshake.js';
export {
  CONTROL_PATH,
  ClusterMeshDeployment,
  DIRECTORY_PATH,
  type ClusterControlMessage,
  type ClusterDecision,
  type ClusterMeshOptions,
  type ClusterMeshStatus,
  type DirectoryMessage,
} from './topologies/cluster-mesh.js';
export type { AgentsQuery, ClusterAgent, ClusterRole } from './topologies/member-directories.js';
export {
  ClusterHierarchicalDeployment,
  HIERARCHY_CONTROL_PATH,
  HIERARCHY_DIRECTORY_PATH,
  type ClusterHierarchyOptions,
  type ClusterHierarchyStatus,
  type HierarchyControlMessage,
  type HierarchyDirectoryMessage,
  type HierarchyNodeRole,
} from './topologies/cluster-hierarchy.js';
