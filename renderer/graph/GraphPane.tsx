// The graph wired to the store: GraphView (props only) gets the open model, the selection,
// the search, and from split/shown-partition.ts the partition to draw with its picker and
// the per-layer latencies on each side (measured where profiled, else the roofline
// estimate, the same numbers the split panel plans with).
import { useCallback, useMemo, type JSX } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { resolveChoice, useGraphSplit } from '../split/shown-partition.js';
import { useStudio, type GraphPartitionChoice } from '../store.js';
import { GraphView, type GraphLatencies, type GraphViewProps, type PartitionPicker } from './GraphView.js';

export type GraphPaneProps = Pick<GraphViewProps, 'selected' | 'onSelect' | 'search' | 'focusRequest'> & { model: ModelView };

export function GraphPane(props: GraphPaneProps): JSX.Element {
  const graphSplit = useGraphSplit(props.model);
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
  return <GraphView {...props} partition={graphSplit?.partition ?? null} partitionPicker={picker} latencies={latencies} />;
}
