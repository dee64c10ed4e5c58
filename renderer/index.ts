// Placeholder so the renderer project compiles until the studio UI lands (issue 5).
export {};
