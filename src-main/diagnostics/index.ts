export { diagnosticsFacts, writeDiagnosticsFile } from './collect';
export { diagnosticsReport } from './diagnostics-report';
