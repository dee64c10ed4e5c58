// One figure of `npm run bench`: what was measured, against which baseline or goal, the
// ratio between them and whether the goal is met. Every bench section returns these.
export interface BenchFigure {
  figure: string;
  measured: string;
  baselineOrGoal: string;
  ratio: number;
  goal: string;
  met: boolean;
}
