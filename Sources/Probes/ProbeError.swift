#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore

/// Why probing could not start or go on. Each case says what to do about it.
public enum ProbeError: ArchbenchFailure {
    case missingPrivilege(String)
    case missingKernelFeature(String)
    case noSuchProcess(pid: Int32, detail: String)
    case noListener(port: UInt16)
    case noSuchCgroup(String)
    case emptyCgroup(String)
    case commandNotFound(String)
    case commandFailed(command: String, errno: Int32)
    /// A libbpf or bpf() call failed; `log` is what libbpf said about it.
    case libbpf(operation: String, errno: Int32, log: String)
    /// A map's key or value size differs from the Swift view of it: the build is inconsistent.
    case layoutMismatch(map: String, detail: String)

    /// The kernel or the machine refused the probes (privileges, BTF, bpf(), a layout): the targets
    /// themselves are fine, and a caller may go on without probes.
    public var isProbeUnavailable: Bool {
        switch self {
        case .missingPrivilege, .missingKernelFeature, .libbpf, .layoutMismatch: true
        default: false
        }
    }

    public var exitCode: ArchbenchExitCode {
        switch self {
        case .commandNotFound, .commandFailed: .usage
        default: .environment
        }
    }

    public var description: String {
        switch self {
        case .missingPrivilege(let text), .missingKernelFeature(let text):
            return text
        case .noSuchProcess(let pid, let detail):
            return "no process with pid \(pid)\(detail.isEmpty ? "" : ": \(detail)")"
        case .noListener(let port):
            return "no process listens on TCP port \(port)"
        case .noSuchCgroup(let path):
            return "no cgroup \(path) (looked under /sys/fs/cgroup)"
        case .emptyCgroup(let path):
            return "cgroup \(path) has no processes"
        case .commandNotFound(let command):
            return "command not found: \(command)"
        case .commandFailed(let command, let code):
            return "cannot run \(command): \(String(cString: strerror(code)))"
        case .libbpf(let operation, let code, let log) where code == EPERM:
            // KernelProbe checks the capabilities before it opens a session, so EPERM here is a
            // policy refusing bpf(), not a missing privilege nor a program the verifier rejects. It
            // is one line, as `archbench run` reports it when it goes on without probes; libbpf's
            // own guesses (CONFIG_BPF_SYSCALL, RLIMIT_MEMLOCK) would mislead, so only its last
            // line, which names the object or program, is kept.
            var last = log.split(separator: "\n").last?.drop { $0 == " " } ?? ""
            if last.hasPrefix("libbpf: ") { last = last.dropFirst("libbpf: ".count) }
            return "\(operation) failed: the kernel refused bpf() (EPERM) although this process has the capabilities for it:"
                + " a seccomp filter, a security module, kernel lockdown or a container's user namespace forbids it"
                + (last.isEmpty ? "" : "; libbpf: \(last)")
        case .libbpf(let operation, let code, let log):
            var text = "\(operation) failed: \(String(cString: strerror(code)))"
            if code == EACCES {
                text += " (the kernel refused bpf(): run as root, or with CAP_BPF + CAP_PERFMON;"
                    + " kernel lockdown also forbids some program types)"
            }
            let detail = log.split(separator: "\n").suffix(6).joined(separator: "\n  ")
            return detail.isEmpty ? text : text + "\n  libbpf: " + detail
        case .layoutMismatch(let map, let detail):
            return "map \(map) does not have the layout this build expects (\(detail)); rebuild archbench"
        }
    }
}
