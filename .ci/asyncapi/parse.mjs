// Parse an AsyncAPI document with the official parser (@asyncapi/parser, its default
// Spectral rules); print every diagnostic and exit non-zero on any error or warning.
import { readFileSync } from "node:fs";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const [file] = process.argv.slice(2);
if (!file) {
  console.error("usage: node parse.mjs <asyncapi.yaml>");
  process.exit(2);
}
const { document, diagnostics } = await new Parser().parse(readFileSync(file, "utf8"), { source: file });
const names = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([name, value]) => [value, name]));
for (const d of diagnostics) {
  console.log(`${names[d.severity]}: ${d.code}: ${d.message} (at ${d.path.join(".") || "/"})`);
}
const blocking = diagnostics.filter(
  (d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning,
);
if (!document || blocking.length) {
  console.error(`${file}: not a valid AsyncAPI document, or the parser warned (above).`);
  process.exit(1);
}
console.log(`${file}: AsyncAPI ${document.version()}, ${document.allMessages().length} messages, parsed without warnings.`);
