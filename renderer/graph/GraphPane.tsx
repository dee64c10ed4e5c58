// The graph wired to the store: GraphView (props only) gets the open model, the selection,
// the search, and from split/shown-partition.ts the partition to draw with its picker and
// the per-layer latencies on each side (measured where profiled, else the roofline
// estimate, the same numbers the split panel plans with). A newly opened model reaches the
// graph through useDeferredValue: its spec, module tree and analysis are computed in a
// render of their own, after the rest of the window has shown the model, so opening a big
// model is not one long block of the page's main thread.
import { useCallback, useDeferredValue, useMemo, type JSX } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { OPENING_STAGE, useGraphDrawnReport, useOpeningStage } from '../opening/opening-stages.js';
import { resolveChoice, useGraphSplit } from '../split/shown-partition.js';
import { useStudio, type GraphPartitionChoice } from '../store.js';
import { GraphView, type GraphLatencies, type GraphViewProps, type PartitionPicker } from './GraphView.js';

export type GraphPaneProps = Pick<GraphViewProps, 'selected' | 'onSelect' | 'search' | 'focusRequest'> & { model: ModelView };

export function GraphPane({ model: current, ...props }: GraphPaneProps): JSX.Element {
  const model = useDeferredValue(current);
  // The partition follows the graph's first draw by a task (opening-stages.tsx).
  const graphSplit = useGraphSplit(useOpeningStage(model, OPENING_STAGE.graphSplit) ? model : null);
  const choice = useStudio((state) => state.graphPartition);
  const setGraphPartition = useStudio((state) => state.setGraphPartition);
  const onChange = useCallback((next: GraphPartitionChoice) => setGraphPartition(next), [setGraphPartition]);
  const split = graphSplit?.split ?? null;
  const latencies = useMemo<GraphLatencies | null>(
    () =>
      split
        ? {
            localMs: split.problem.nodes.map((node) => node.localMs),
            remoteMs: split.problem.nodes.map((node) => node.remoteMs),
            localSource: split.localSource,
            remoteSource: split.remoteSource
          }
        : null,
    [split]
  );
  const hasDag = graphSplit?.analysis.dag !== undefined;
  const pins = graphSplit?.pins;
  const objective = graphSplit?.objective ?? 'latency';
  const picker = useMemo<PartitionPicker | undefined>(
    () => (pins ? { choice: resolveChoice(choice, pins, hasDag), pins, hasDag, objective, onChange } : undefined),
    [choice, pins, hasDag, objective, onChange]
  );
  const onDrawn = useGraphDrawnReport();
  return <GraphView {...props} model={model} onDrawn={onDrawn} partition={graphSplit?.partition ?? null} partitionPicker={picker} latencies={latencies} />;
}
