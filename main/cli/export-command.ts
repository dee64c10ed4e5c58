// `neurosurgeon export`: the CLI face of main/split/export.ts — head.onnx, tail.onnx, the tail's
// model repository and partition.json v2 with its decision table, for a cut chosen by
// number, by the planner ('auto') or by the DAG min cut ('dag'). The model, network and
// latency options are cli.ts's own (the same as `plan` and `split`), handed in by it. The
// tail also comes as a KServe InferenceService (kserve.yaml) serving the repository from
// `--storage-uri`, with a deploy note (DEPLOY.md). `--encoding` exports head and tail with
// the wire encoding in their graphs (main/split/encode-surgery.ts).
import type { Command } from 'commander';
import type { AnalyzedModel, RuntimeShapeMode } from '../model/analyze-file.js';
import { parseWireEncoding, type WireEncoding } from '../../app/partition/wire-encoding.js';
import { calibratedWire } from '../split/encoded-split.js';
import { UsageError } from '../errors/user-errors.js';
import { openModelForCli } from './open-model.js';
import { print } from './options.js';
import { exportPartition } from '../split/export.js';
import { checkOutputLocation } from '../files/output-path.js';
import { formatBytes, formatMs } from './format.js';
import { planOptions, type PlanRequest } from '../split/plan-service.js';

interface ExportCliOptions {
  dim?: string[];
  runtimeShapes: RuntimeShapeMode;
  cut: string;
  out: string;
  force?: boolean;
  json?: boolean;
  storageUri?: string;
  encoding?: string;
}

export interface ExportCommandHelpers<O> {
  addModelOptions: (command: Command) => Command;
  addNetworkOptions: (command: Command) => Command;
  planRequest: (analyzed: AnalyzedModel, options: O, dag: boolean) => Promise<PlanRequest>;
}

export function registerExportCommand<O>(program: Command, helpers: ExportCommandHelpers<O>): void {
  helpers
    .addNetworkOptions(
      helpers.addModelOptions(
        program
          .command('export')
          .argument('<model>', 'ONNX file')
          .description('write a deployable partition: head.onnx, tail.onnx, the tail as a model repository, and partition.json with a decision table')
      )
    )
    .requiredOption('--cut <k|auto|dag>', 'number of nodes run on the device, "auto" for the best topological cut, "dag" for the min-cut partition')
    .requiredOption('--out <dir>', 'output folder (written whole, atomically)')
    .option('--force', 'replace an existing export in the output folder')
    .option('--storage-uri <uri>', "where the repository/ folder will be uploaded for KServe (s3://, gs://, pvc://, https://, ...); default pvc://neurosurgeon-models/<out folder>/repository")
    .option('--encoding <fp32|fp16|int8|uint8|jpeg>', 'wire encoding of the uploaded float tensors, carried by the graphs (int8: QuantizeLinear / DequantizeLinear with scales calibrated on 8 sample inputs; fp16: Cast); integers go as they are; +deflate is HTTP compression, noted in partition.json')
    .option('--json', 'print partition.json and the files written')
    .action(async (model: string, options: ExportCliOptions & O) => {
      checkOutputLocation(options.out);
      let encoding: WireEncoding | null = null;
      if (options.encoding !== undefined) {
        try {
          encoding = parseWireEncoding(options.encoding);
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      }
      const analyzed = await openModelForCli(model, options);
      const wire = encoding ? await calibratedWire(analyzed, encoding) : undefined;
      const request = await helpers.planRequest(analyzed, options, options.cut === 'dag');
      const result = exportPartition({
        analyzed,
        cut: /^\d+$/.test(options.cut) ? Number(options.cut) : (options.cut as 'auto' | 'dag'),
        options: planOptions(request),
        objective: request.objective,
        latencies: { local: request.latencies.local, remote: request.latencies.remote },
        outDir: options.out,
        overwrite: Boolean(options.force),
        storageUri: options.storageUri ?? null,
        serverProvider: request.latencies.remote.profile?.ep ?? null,
        ...(wire ? { wire } : {})
      });
      if (options.json) return print(JSON.stringify({ dir: result.dir, files: result.files, ms: result.ms, partition: result.partition }, null, 2));
      for (const file of result.files) print(`wrote ${file}`);
      const config = result.partition;
      const up = config.crossing.filter((c) => c.direction === 'up');
      print(
        `cut ${config.cut}: ${config.localNodes.length} of ${config.model.nodes} nodes on the device, ${up.length} tensors cross ` +
          `(${formatBytes(up.reduce((sum, c) => sum + (c.bytes ?? 0), 0))}), predicted ${formatMs(config.predicted.totalMs)} ms`
      );
      if (config.files.kserve && !options.storageUri) print('kserve.yaml serves the repository from the default PVC location; give --storage-uri for your own (see DEPLOY.md)');
      print(`decision table (${config.decisionTable.objective}, uplink Mbps → cut):`);
      for (const row of config.decisionTable.rows) print(`  ${row.fromMbps.toPrecision(4)} – ${row.toMbps.toPrecision(4)}: cut ${row.cut}`);
    });
}
