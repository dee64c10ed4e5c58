// Text assets the renderer bundles (scripts/build.mjs loads .csv files as text), e.g. the
// sample bandwidth trace in resources/traces/.
declare module '*.csv' {
  const text: string;
  export default text;
}
