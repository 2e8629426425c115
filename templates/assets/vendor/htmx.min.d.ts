// Imported `with { type: "file" }`: the default export is the file path (also inside the compiled binary).
declare const path: string;
export default path;
