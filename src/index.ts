/**
 * tfckpt: read TensorFlow checkpoints (V1 tensor slices, V2 bundles, object-based and
 * name-based), write TF2 checkpoints, and migrate between them, without TensorFlow.
 *
 * @packageDocumentation
 */

export { dataFilename, metaFilename } from "./bundle/naming.js";
export { type BundleEntry, BundleReader } from "./bundle/reader.js";
export { type AddOptions, BundleWriter, type BundleWriterOptions } from "./bundle/writer.js";
export { nextManagedPrefix, type RecordSaveOptions, recordManagedSave } from "./checkpoint/manager.js";
export { type OpenedCheckpoint, openCheckpoint } from "./checkpoint/open.js";
export { type ResolvedCheckpoint, resolveCheckpoint } from "./checkpoint/resolve.js";
export {
  type CheckpointState,
  formatCheckpointState,
  parseCheckpointState,
  writeCheckpointState,
} from "./checkpoint/state.js";
export { type DraftSummary, draftMappingFiles } from "./draft-mapping.js";
export { DTYPES, type DTypeInfo, type DTypeKind, dtypeFromEnum, dtypeFromName } from "./dtypes.js";
export * from "./errors.js";
export {
  attributeKey,
  escapeLocalName,
  objectPathFromString,
  objectPathToString,
  slotVariablePath,
  unescapeLocalName,
} from "./graph/keys.js";
export {
  breadthFirstPaths,
  type ObjectGraph,
  parseObjectGraph,
  prettyNames,
  renderTree,
} from "./graph/object-graph.js";
export { type InspectOptions, type InspectResult, inspectCheckpoint } from "./inspect.js";
export { type UnpackedArchive, unpackKerasArchive } from "./keras/archive.js";
export { isKerasPath, KerasWeightsReader } from "./keras/reader.js";
export {
  type KerasDataset,
  type KerasValue,
  type KerasWriteOptions,
  writeKerasWeights,
} from "./keras/writer.js";
export * as limits from "./limits.js";
export { type AssignmentMap, loadAssignmentMap, parseAssignmentMap } from "./mapping/document.js";
export { type DraftMap, type DraftResult, draftMapping, SURE } from "./mapping/draft.js";
export { type Assignment, type Resolution, resolveAssignments } from "./mapping/resolve.js";
export { type MigrateOptions, migrate, type OutputFormat, outputFormatOf } from "./migrate.js";
export * from "./reader.js";
export type { MigrationReport } from "./report/migration.js";
export type { Verdict, Verdicts } from "./report/verdicts.js";
export { type RewriteOptions, type RewriteResult, rewriteCheckpoint } from "./rewrite.js";
export { decodeSliceKey, encodeSliceKey } from "./slices/slice-key.js";
export {
  type KerasLayoutJson,
  kerasLayoutToJson,
  kerasVariablePaths,
  renderKerasTree,
  targetFromKeras,
} from "./target/keras.js";
export { loadTarget } from "./target/load.js";
export {
  type FullGraphJson,
  type TargetAttribute,
  type TargetGraph,
  targetFromCheckpoint,
  targetFromJson,
  targetToFullJson,
} from "./target/target.js";
export { type AttributeValue, writeObjectCheckpoint } from "./target/write.js";
export type { FixedTensor, StringTensor, Tensor } from "./tensor.js";
export { applyTransform, planTransform, type Transform } from "./transforms/index.js";
// V1Reader: the name before TF's (`TensorSliceReader`), kept for the public API.
export { TensorSliceReader, TensorSliceReader as V1Reader } from "./v1/reader.js";
export {
  type Assertion,
  type ValidateOptions,
  type ValidationResult,
  validateCheckpoint,
} from "./validate.js";
export { summarizeTensor } from "./values.js";
