import Analysis
import Probes

/// `archbench probe`: record with the probes, then analyse the recording into its report.
public enum ProbeRun {
    public static func run(_ request: ProbeRequest, progress: (String) -> Void) throws -> ProbeReport {
        ProbeAnalysis.report(of: try ProbeRecorder.record(request, progress: progress))
    }
}
