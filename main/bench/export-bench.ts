// `npm run bench -- --only export`: how long `export` takes for VGG-16 (head + tail +
// the tail's model repository + partition.json with its decision table), beside the time
// to copy the model file once on the same disk (the export writes about twice its bytes).
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { estimateLatencies } from '../../app/engine.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import { median } from '../../app/profiling/trace.js';
import { analyzeModelFile } from '../model/analyze-file.js';
import type { BenchFigure } from './figure.js';
import { exportPartition } from '../split/export.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';

const RUNS = 3;

export async function exportFigures(): Promise<BenchFigure[]> {
  const analyzed = await analyzeModelFile(ensureZooModel('vgg16', defaultZooDir()));
  const estimate = estimateLatencies(analyzed.analysis);
  const work = mkdtempSync(path.join(tmpdir(), 'ns-bench-export-'));
  const cut = Math.floor(analyzed.analysis.layers.length / 2);
  try {
    const exportMs: number[] = [];
    const copyMs: number[] = [];
    let writtenBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      const copyStarted = performance.now();
      copyFileSync(analyzed.path, path.join(work, `copy-${run}.onnx`));
      copyMs.push(performance.now() - copyStarted);
      rmSync(path.join(work, `copy-${run}.onnx`), { force: true });
      const result = exportPartition({
        analyzed,
        cut,
        options: defaultPlanOptions('lte'),
        objective: 'latency',
        latencies: { local: { ms: estimate.localMs, source: 'estimated' }, remote: { ms: estimate.remoteMs, source: 'estimated' } },
        outDir: path.join(work, `export-${run}`),
        overwrite: false
      });
      exportMs.push(result.ms);
      writtenBytes = result.files.reduce((sum, file) => sum + statSync(file).size, 0);
      rmSync(path.join(work, `export-${run}`), { recursive: true, force: true });
    }
    const exportMedian = median(exportMs);
    const copyMedian = median(copyMs);
    const modelMB = statSync(analyzed.path).size / 1e6;
    return [
      {
        figure: `export VGG-16 at cut ${cut} (head + tail + repository + partition.json), median of ${RUNS}`,
        measured: `${exportMedian.toFixed(0)} ms (${(writtenBytes / 1e6).toFixed(0)} MB written)`,
        baselineOrGoal: `copying the ${modelMB.toFixed(0)} MB model file: ${copyMedian.toFixed(0)} ms`,
        ratio: exportMedian / copyMedian,
        goal: 'report (no goal set)',
        met: true
      }
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
