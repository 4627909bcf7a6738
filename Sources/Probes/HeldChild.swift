#if canImport(Glibc)
import Glibc
#endif
import ArchbenchCore
import CProcess
import Foundation
import Recording

/// A command forked but held before exec, so its pid can be registered with the probes before it
/// makes a single syscall of its own; once released, a thread reaps it.
final class HeldChild {
    let pid: Int32
    private var handle: ab_held_child
    private var released = false
    private var status: ExitBox?
    private let identity: TargetIdentity?

    /// Resolves `argv[0]` on PATH here, in the parent: the child may only make async-signal-safe
    /// calls. `output`: a file the command's stdout and stderr are appended to (nil: archbench's own).
    /// `diesWithArchbench`: SIGTERM to the child when the calling thread exits, so that even a
    /// killed archbench leaves no command of its own behind. `identity`: whom the command runs as
    /// (nil: archbench's own user); the output file is opened here, by archbench, either way.
    init(argv: [String], output: String? = nil, diesWithArchbench: Bool = false,
         identity: TargetIdentity? = nil) throws(ProbeError) {
        guard let name = argv.first else { throw .commandNotFound("") }
        guard let path = Self.resolve(name) else { throw .commandNotFound(name) }
        self.identity = identity
        var handle = ab_held_child()
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        // The environment is built here: the child may not allocate.
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = identity.map { identity in
            identity.environment(from: ProcessInfo.processInfo.environment)
                .sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        } ?? []
        defer { cEnvironment.forEach { free($0) } }
        var outputFD: Int32 = -1
        if let output {
            outputFD = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard outputFD >= 0 else { throw .commandFailed(command: "\(name) (its output file \(output))", errno: errno) }
        }
        defer { if outputFD >= 0 { close(outputFD) } }
        let deathSignal = diesWithArchbench ? SIGTERM : 0
        let rc: Int32
        if let identity {
            rc = identity.groups.withUnsafeBufferPointer { groups in
                var credentials = ab_identity(uid: identity.uid, gid: identity.gid, groups: groups.baseAddress,
                                              group_count: groups.count)
                return ab_held_child__spawn(path, &cArgs, &cEnvironment, outputFD, deathSignal, &credentials, &handle)
            }
        } else {
            rc = ab_held_child__spawn(path, &cArgs, nil, outputFD, deathSignal, nil, &handle)
        }
        guard rc == 0 else { throw .commandFailed(command: Self.describe(name, identity), errno: -rc) }
        self.handle = handle
        self.pid = handle.pid
    }

    /// The command as errors name it: with whom it was to run as, when that is not archbench's user.
    private static func describe(_ command: String, _ identity: TargetIdentity?) -> String {
        identity.map { "\(command) as \($0)" } ?? command
    }

    deinit {
        if !released { ab_held_child__abandon(&handle) }
    }

    /// Lets the child exec; throws if the exec failed (the child has then exited with 127).
    func release(command: String) throws(ProbeError) {
        released = true
        let rc = ab_held_child__release(&handle)
        guard rc == 0 else {
            let step = handle.failed_step == Int32(AB_HELD_CHILD_IDENTITY.rawValue) ? " (switching user: setgroups, setresgid, setresuid)" : ""
            throw .commandFailed(command: Self.describe(command, identity) + step, errno: -rc)
        }
    }

    /// Waits for the child's exit on a thread of its own, then calls `onExit`.
    func reap(then onExit: @escaping @Sendable () -> Void) {
        status = ExitBox.reap(pid, then: onExit)
    }

    /// The wait(2) status once the child has exited and was reaped; nil before.
    var waitStatus: Int32? { status?.value }

    /// Passes `signal` on to the child, then SIGKILL after `graceSeconds`, and waits for the reaper.
    func stop(signal: Int32, graceSeconds: Double) {
        guard let status else { return }
        kill(pid, signal)
        if status.exited.wait(timeout: .now() + graceSeconds) == .timedOut {
            kill(pid, SIGKILL)
            _ = status.exited.wait(timeout: .now() + graceSeconds)
        }
    }

    static func resolve(_ name: String) -> String? {
        let fm = FileManager.default
        if name.contains("/") {
            return fm.isExecutableFile(atPath: name) ? name : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            var isDirectory: ObjCBool = false
            if fm.isExecutableFile(atPath: candidate),
               fm.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
        }
        return nil
    }
}

/// The wait(2) status of a child, filled in by the thread that reaps it.
private final class ExitBox: @unchecked Sendable {
    let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var status: Int32?

    var value: Int32? { lock.withLock { status } }

    static func reap(_ pid: Int32, then onExit: @escaping @Sendable () -> Void) -> ExitBox {
        let box = ExitBox()
        Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 {
                guard errno == EINTR else { return }
            }
            box.lock.withLock { box.status = status }
            box.exited.signal()
            onExit()
        }.start()
        return box
    }
}

/// A command started without probes (`archbench run --no-probes`): the same spawn, released at
/// once, reaped by a thread of its own, stopped with SIGTERM then SIGKILL.
public final class SpawnedCommand {
    private let child: HeldChild
    public var pid: Int32 { child.pid }

    public init(argv: [String], output: String? = nil, diesWithArchbench: Bool = true,
                identity: TargetIdentity? = nil) throws(ProbeError) {
        child = try HeldChild(argv: argv, output: output, diesWithArchbench: diesWithArchbench, identity: identity)
        try child.release(command: argv[0])
        child.reap {}
    }

    /// The wait(2) status once it has exited; nil while it runs.
    public var exitStatus: ExitStatus? { child.waitStatus.map(ExitStatus.init(waitStatus:)) }

    public func stop(graceSeconds: Double = 2) {
        if child.waitStatus == nil { child.stop(signal: SIGTERM, graceSeconds: graceSeconds) }
    }
}
