import Foundation

/// Whether this process may load and attach BPF tracing programs.
public enum Privileges {
    static let capSysAdmin = 21
    static let capPerfmon = 38
    static let capBPF = 39

    /// The effective capability set from /proc/self/status, or nil if it cannot be read.
    public static func effectiveCapabilities() -> UInt64? {
        guard let status = ProcessTable.read("/proc/self/status") else {
            return nil
        }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        }
        return nil
    }

    /// Nil when tracing is allowed: CAP_SYS_ADMIN, or CAP_BPF together with CAP_PERFMON. Otherwise
    /// a sentence naming what is missing.
    public static func missingForTracing(capabilities: UInt64? = effectiveCapabilities()) -> String? {
        guard let caps = capabilities else {
            return "cannot read this process's capabilities from /proc/self/status"
        }
        func has(_ cap: Int) -> Bool { caps & (1 << UInt64(cap)) != 0 }
        if has(capSysAdmin) || (has(capBPF) && has(capPerfmon)) { return nil }
        var missing: [String] = []
        if !has(capBPF) { missing.append("CAP_BPF") }
        if !has(capPerfmon) { missing.append("CAP_PERFMON") }
        return "loading BPF probes needs root, or CAP_BPF + CAP_PERFMON; this process (uid \(getuid())) "
            + "lacks \(missing.joined(separator: " and "))"
    }
}
