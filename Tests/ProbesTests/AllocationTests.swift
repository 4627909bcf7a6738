import CProbe
import Foundation
import ArchbenchCore
@testable import Probes
import Recording
import TestSupport
import XCTest

/// The allocation probes against ab-testhelper's `alloc K S` mode, whose allocations are known: K
/// blocks of S bytes kept by each of keep_blocks (malloc), calloc_blocks, realloc_blocks
/// (realloc(NULL, S/2) grown to S) and memalign_blocks (K posix_memalign(S) + K aligned_alloc(64,
/// S rounded up to 64)); K blocks malloc'd and all freed by free_blocks.
final class AllocationTests: XCTestCase {
    /// Runs the helper under the probes (attached by pid, sampling 1 in `sampleEvery`) and returns
    /// its report. `alive`: the run ends by its duration while the helper still waits (the memory
    /// map is read live); otherwise the helper exits once done and the run ends with it (the map
    /// kept from while it ran is used).
    func probeHelper(count: Int, size: Int, sampleEvery: UInt32, alive: Bool) throws -> AllocationRecord {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let target = try RunningProcess(BuiltProducts.helper, ["alloc", "\(count)", "\(size)"])
        defer { _ = target.finish(timeout: 10) }
        let messages = MessageLog()
        var request = ProbeRequest(pids: [target.pid], duration: alive ? 4 : 60)
        request.allocationSampleEvery = sampleEvery
        let runner = RunnerThread { [request] in try ProbeRecorder.record(request) { messages.add($0) } }
        XCTAssertTrue(messages.wait(containing: "probing pid \(target.pid)"), "the probe never attached")
        target.write("go\n")
        let deadline = Date().addingTimeInterval(alive ? 3.5 : 50)
        while !target.stdoutSoFar.contains("allocated"), Date() < deadline { usleep(10_000) }
        XCTAssertTrue(target.stdoutSoFar.contains("allocated"), "the helper did not finish allocating in time")
        if !alive { target.closeStdin() }
        let report = try runner.result(timeout: 90)
        XCTAssertEqual(report.endReason, alive ? "duration" : "targets_exited")
        XCTAssertEqual(report.lostEvents.filter { $0.key.hasPrefix("alloc.") }, [:], "no allocation event dropped")
        let process = try XCTUnwrap(report.processes.first { $0.pid == target.pid })
        let allocations = try XCTUnwrap(process.allocations, "--alloc reports allocations for every process")
        XCTAssertNil(allocations.error)
        XCTAssertTrue(allocations.probes?.contains("libc.so") ?? false, "\(allocations.probes ?? "nil")")
        return allocations
    }

    /// The stacks with `function` among their frames, summed.
    func outstanding(_ report: AllocationRecord, in function: String) -> AllocationStack {
        report.stacks.filter { $0.frames.contains { $0.hasPrefix(function + "+0x") } }
            .reduce(AllocationStack(estimatedBytes: 0, estimatedCount: 0, sampledBytes: 0, sampledCount: 0, frames: [])) {
                AllocationStack(estimatedBytes: $0.estimatedBytes + $1.estimatedBytes,
                                estimatedCount: $0.estimatedCount + $1.estimatedCount,
                                sampledBytes: $0.sampledBytes + $1.sampledBytes,
                                sampledCount: $0.sampledCount + $1.sampledCount, frames: [])
            }
    }

    func testEveryAllocationTrackedGivesExactOutstandingBytesByStack() throws {
        let count = 1000, size = 100
        let report = try probeHelper(count: count, size: size, sampleEvery: 1, alive: true)
        XCTAssertEqual(report.sampleEvery, 1)
        let blocks = UInt64(count), bytes = UInt64(count * size)
        for function in ["keep_blocks", "calloc_blocks", "realloc_blocks"] {
            let found = outstanding(report, in: function)
            XCTAssertEqual(found.estimatedBytes, bytes, function)
            XCTAssertEqual(found.estimatedCount, blocks, function)
            XCTAssertEqual(found.sampledCount, blocks, function)
            XCTAssertEqual(found.sampledBytes, bytes, function)
        }
        let aligned = outstanding(report, in: "memalign_blocks")
        XCTAssertEqual(aligned.estimatedCount, 2 * blocks)
        XCTAssertEqual(aligned.estimatedBytes, bytes + blocks * UInt64((size + 63) / 64 * 64))
        XCTAssertEqual(outstanding(report, in: "free_blocks").estimatedCount, 0, "every block it allocated was freed")
        XCTAssertEqual(outstanding(report, in: "free_blocks").estimatedBytes, 0)
        // The direct caller is the first frame (the stack is taken as malloc returns).
        let keep = try XCTUnwrap(report.stacks.first { $0.frames.contains { $0.hasPrefix("keep_blocks+0x") } })
        XCTAssertTrue(keep.frames[0].hasPrefix("keep_blocks+0x"), "\(keep.frames)")
        XCTAssertTrue(keep.frames[0].hasSuffix("(ab-testhelper)"), "\(keep.frames)")
        XCTAssertTrue(keep.frames.contains { $0.hasPrefix("alloc_pattern+0x") }, "\(keep.frames)")
        XCTAssertGreaterThanOrEqual(report.estimatedBytes, 5 * bytes)
    }

    /// One in 64 tracked, each weighted by 64: the estimate of K allocations is 64 × Binomial(K, 1/64),
    /// whose standard deviation is sqrt(K × 63) (2 510 for K = 100 000, 2.5%). The test allows 5 σ
    /// (12.5%): a correct estimator fails it about once in 1.7 million runs.
    func testSampledEstimatesAreWithinFiveStandardDeviations() throws {
        let count = 100_000, size = 64, every: UInt32 = 64
        let report = try probeHelper(count: count, size: size, sampleEvery: every, alive: false)
        XCTAssertEqual(report.sampleEvery, every)
        let sigma = (Double(count) * Double(every - 1)).squareRoot()
        for function in ["keep_blocks", "calloc_blocks", "realloc_blocks"] {
            let found = outstanding(report, in: function)
            let error = abs(Double(found.estimatedCount) - Double(count))
            print("measured: \(function) estimated \(found.estimatedCount) blocks of \(count) "
                + "(\(found.sampledCount) tracked), error \(String(format: "%.2f", error / sigma)) σ")
            XCTAssertLessThanOrEqual(error, 5 * sigma, "\(function): estimated \(found.estimatedCount) of \(count)")
            XCTAssertEqual(found.estimatedCount, found.sampledCount * UInt64(every), "each tracked block weighs \(every)")
            XCTAssertEqual(found.estimatedBytes, found.estimatedCount * UInt64(size), "\(function): blocks of \(size) bytes")
        }
        XCTAssertEqual(outstanding(report, in: "free_blocks").estimatedCount, 0, "every tracked block was freed")
    }

    func testAStaticBinaryIsReportedNotAFailure() throws {
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else { throw XCTSkip("no C compiler (cc) to build a static binary") }
        let directory = try temporaryDirectory("ab-static")
        let source = directory.appending(path: "static.c"), binary = directory.appending(path: "static")
        try "#include <stdlib.h>\n#include <unistd.h>\nint main(void) { free(malloc(10)); usleep(500000); return 0; }\n"
            .write(to: source, atomically: true, encoding: .utf8)
        let built = try runToCompletion("/usr/bin/cc", ["-static", "-o", binary.path, source.path])
        guard built.status == 0 else { throw XCTSkip("cc -static failed (no static libc?): \(built.stderr)") }
        var request = ProbeRequest(command: [binary.path])
        request.allocationSampleEvery = 1
        let report = try ProbeRecorder.record(request) { _ in }
        XCTAssertEqual(report.command?.exit?.code, 0)
        let process = try XCTUnwrap(report.processes.first { $0.pid == report.command?.pid })
        let error = try XCTUnwrap(process.allocations?.error)
        XCTAssertTrue(error.contains("allocation probes could not attach to pid \(process.pid)"), error)
        XCTAssertTrue(error.contains("static"), error)
    }

    func testAllocationProbesAreOffByDefault() throws {
        XCTAssertFalse(KernelProbe.families(adding: []).contains(.alloc))
        XCTAssertTrue(KernelProbe.families(adding: [.alloc]).contains(.alloc))
        if let reason = reasonBPFTestsCannotRun() { throw XCTSkip(reason) }
        let report = try ProbeRecorder.record(ProbeRequest(command: [BuiltProducts.helper, "getppid", "10"])) { _ in }
        XCTAssertTrue(report.processes.allSatisfy { $0.allocations == nil })
    }

    func testSharedStructLayoutsMatchTheCSide() {
        XCTAssertEqual(MemoryLayout<alloc_site>.size, 8)
        XCTAssertEqual(MemoryLayout<alloc_outstanding>.size, 32)
        XCTAssertEqual(MemoryLayout<alloc_key>.size, 16)
        XCTAssertEqual(MemoryLayout<alloc_info>.size, 24)
        XCTAssertEqual(MemoryLayout<alloc_stack>.size, 512)
    }
}

/// The symbolizer on this test process's own memory: known functions by address.
final class SymbolizerTests: XCTestCase {
    func testAddressesOutsideAnyFileAreShownAsTheyAre() {
        let map = MemoryMap(parsing: """
            55d0c0000000-55d0c0001000 r--p 00000000 fe:01 1234                       /usr/bin/thing
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
            """)
        let symbolizer = Symbolizer()
        XCTAssertEqual(symbolizer.name(ofReturnAddress: 0x1234, in: map), "0x1234")
        XCTAssertEqual(symbolizer.name(ofReturnAddress: 0x7ffd00000100, in: map), "0x7ffd00000100 ([stack])")
    }

    func testLibcFunctionsAreNamed() throws {
        let map = try XCTUnwrap(ProcessTable.memoryMap(pid: getpid()))
        let symbolizer = Symbolizer()
        let program = try XCTUnwrap(dlopen(nil, RTLD_NOW))
        for name in ["malloc", "free", "calloc"] {
            let address = UInt64(UInt(bitPattern: try XCTUnwrap(dlsym(program, name))))
            // As a return address 0x10 bytes into the function.
            let named = symbolizer.name(ofReturnAddress: address + 0x10, in: map)
            XCTAssertTrue(named.hasPrefix("\(name)+0x10 (libc.so"), named)
        }
        XCTAssertEqual(Symbolizer.demangle("$sSi"), "Swift.Int")
        XCTAssertEqual(Symbolizer.demangle("malloc"), "malloc")
    }
}

/// Entry probes placed on an instruction the kernel emulates (see UprobeSite).
final class UprobeSiteTests: XCTestCase {
    func testFlagsOnlyFirstInstructionsAreSkippedWhenAnEmulatedOneFollows() {
        let pad = [UInt8](repeating: 0x90, count: 8)
        XCTAssertEqual(UprobeSite.entryOffset(code: [0x41, 0x54, 0x55, 0x53] + pad), 0, "push %r12: emulated")
        XCTAssertEqual(UprobeSite.entryOffset(code: [0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0, 0, 0] + pad), 3,
                       "glibc free: test %rdi,%rdi; je")
        XCTAssertEqual(UprobeSite.entryOffset(code: [0x80, 0x3d, 0x71, 0x0e, 0x14, 0, 0, 0x74, 0x07] + pad), 7,
                       "glibc aligned_alloc: cmpb $0,(%rip); je")
        XCTAssertEqual(UprobeSite.entryOffset(code: [0x48, 0x85, 0xff, 0x48, 0x89, 0xfb] + pad), 0, "test; mov: not emulated")
        XCTAssertEqual(UprobeSite.entryOffset(code: [0x48, 0x89, 0xfb] + pad), 0, "mov first: offset 0")
        XCTAssertEqual(UprobeSite.entryOffset(code: [0x48, 0x85]), 0, "too short to decide")
    }

    func testTheOffsetInThisMachinesLibcIsTheOneItsRunningCodeGives() throws {
        let libc = try XCTUnwrap(AllocProbe.libc(in: try XCTUnwrap(ProcessTable.memoryMap(pid: getpid()))))
        // The reference: free's first bytes as this process runs them (the same libc, mapped), found
        // by the dynamic linker rather than by our ELF reader. A failed lookup also gives 0, so the
        // ELF path must agree with the bytes, and there must be bytes to disagree with.
        let program = try XCTUnwrap(dlopen(nil, RTLD_NOW))
        let free = try XCTUnwrap(dlsym(program, "free"))
        let bytes = Array(UnsafeRawBufferPointer(start: free, count: 16))
        let expected = UprobeSite.entryOffset(code: bytes)
        let offset = UprobeSite.entryOffset(of: "free", in: libc.path)
        XCTAssertEqual(offset, expected, "free starts \(bytes.prefix(8).map { String(format: "%02x", $0) })")
        XCTAssertTrue(offset == 0 ? UprobeSite.isEmulated(bytes, at: 0) || UprobeSite.flagsOnlyLength(bytes) == nil
                                  : UprobeSite.isEmulated(bytes, at: offset), "the probe goes on an emulated instruction")
        XCTAssertEqual(UprobeSite.entryOffset(of: "no_such_function_here", in: libc.path), 0)
    }
}
